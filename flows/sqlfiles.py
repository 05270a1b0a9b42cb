"""Load SQL text from the repository's sql/ folder by name."""

from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"


@cache
def sql(name: str) -> str:
    """Return the text of `sql/<name>.sql`, e.g. `sql("schema/article")`."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")
