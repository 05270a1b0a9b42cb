"""PARSER_VERSION changes whenever the parser's output can: a run parses again what an older
parser loaded only when the version says so.

`tests/fixtures/parser_output.json` holds the parser version and a digest of what it makes of
each fixture and sample page. Record it again with `.venv/bin/python tests/test_parser_version.py`:
that refuses to record a changed output under the same version.
"""

import hashlib
import json
import sys
from pathlib import Path

from flows.extract import decode
from flows.parse import PARSER_VERSION, parse_texts
from flows.settings import SAMPLE_INPUT

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RECORD = FIXTURES / "parser_output.json"


def output_digests() -> dict[str, str]:
    """Per fixture and sample page, the SHA-256 of everything the parser makes of it."""
    paths = sorted([*(FIXTURES / "pages").glob("*.txt"), *SAMPLE_INPUT.glob("*.txt")])
    parsed = parse_texts([decode(path.read_bytes()).text or "" for path in paths])
    digests = {}
    for path, page in zip(paths, parsed, strict=True):
        output = {
            "title": page.title,
            "body": page.body,
            "crawl_month": str(page.crawl_month),
            "layout": page.layout,
            "comments": [[c.author, c.body, c.depth, c.parent] for c in page.comments],
            "unsplit": page.unsplit,
            "roles": page.roles,
            "confidence": page.confidence,
            "flags": list(page.flags),
        }
        encoded = json.dumps(output, ensure_ascii=False).encode()
        digests[path.name] = hashlib.sha256(encoded).hexdigest()
    return digests


def changed_pages(recorded: dict[str, str], current: dict[str, str]) -> list[str]:
    """Pages recorded before whose output is now different (new pages are not changes)."""
    return sorted(name for name, digest in recorded.items() if current.get(name, digest) != digest)


def test_parser_output_changes_only_with_a_new_parser_version() -> None:
    record = json.loads(RECORD.read_text(encoding="utf-8"))
    current = output_digests()

    changed = changed_pages(record["pages"], current)
    if record["version"] == PARSER_VERSION:
        assert not changed, (
            f"the parser now splits {len(changed)} fixture pages differently ({changed[:5]}) "
            f"but PARSER_VERSION is still {PARSER_VERSION}: raise it in flows/parse.py (runs "
            "then parse again the pages older versions loaded), then record the output with "
            "`.venv/bin/python tests/test_parser_version.py`"
        )
    assert (record["version"], record["pages"]) == (PARSER_VERSION, current), (
        "record the parser's output: `.venv/bin/python tests/test_parser_version.py`"
    )


def main() -> None:
    """Record the current output, unless it changed under the version recorded before."""
    current = output_digests()
    if RECORD.exists():
        record = json.loads(RECORD.read_text(encoding="utf-8"))
        changed = changed_pages(record["pages"], current)
        if record["version"] == PARSER_VERSION and changed:
            sys.exit(f"output changed on {changed[:5]}: raise PARSER_VERSION first")
    text = json.dumps({"version": PARSER_VERSION, "pages": current}, indent=1, sort_keys=True)
    RECORD.write_text(text + "\n", encoding="utf-8")
    print(f"recorded parser version {PARSER_VERSION} on {len(current)} pages")


if __name__ == "__main__":
    main()
