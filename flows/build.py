"""Which build of newsflow is running: its release and a digest of the code and data it runs."""

import hashlib
from functools import cache
from importlib.metadata import version
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Everything that decides what a run writes: the code, its SQL, the rules, the parser model
# and the reference entities. Caches, tests and docs do not.
_BUILD_FILES = (
    ("flows", "*.py"),
    ("flows/reference", "*"),
    ("sql", "*.sql"),
    ("expectations", "*"),
)


@cache
def newsflow_version() -> str:
    """The release and build, e.g. 0.1.0+3f2a9c1b04de: two builds that can write different
    rows have different versions, even when the release number was not raised."""
    digest = hashlib.sha256()
    for folder, pattern in _BUILD_FILES:
        for path in sorted((PROJECT_ROOT / folder).rglob(pattern)):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return f"{version('newsflow')}+{digest.hexdigest()[:12]}"
