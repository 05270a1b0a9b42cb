"""newsflow: scraped news pages in, a DuckDB analytics warehouse out."""

import os

# No telemetry: set before Prefect or Great Expectations is first imported. There is no
# network to send it to, and both log errors when they try.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
# The temporary Prefect server migrates its database on first use, which can take longer
# than Prefect's default wait.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
