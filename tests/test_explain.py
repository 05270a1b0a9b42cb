"""`newsflow explain`: the role each line of a page got, the layout, flags and confidence."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from flows.explain import ExplainError, explain_file, explain_text, render_plain, render_table

NEWSFLOW = Path(sys.executable).with_name("newsflow")
# Written for these tests: every role a line can get.
PAGE = """\
0 $
MAY 2024

Ferry Fares Rise

Fares go up in May.

Support SouthFront


Notify of
Alice Moor

Again?

Bob Lane

Yes.

Alice Moor
"""
THREAD = """\
Bridge Reopens

The bridge reopened on Monday.

  1. Alice Moor says:

    Finally.

    1. Bob Lane says:

      Took them long enough.
"""


def test_every_line_gets_its_role_and_comment_lines_their_comment():
    explanation = explain_text(PAGE)

    assert [(line.number, line.role, line.comment) for line in explanation.lines] == [
        (1, "header", ""),
        (2, "header", ""),
        (3, "blank", ""),
        (4, "title", ""),
        (5, "blank", ""),
        (6, "body", ""),
        (7, "blank", ""),
        (8, "chrome", ""),
        (9, "blank", ""),
        (10, "blank", ""),
        (11, "chrome", ""),
        (12, "author", "#1 Alice Moor, depth 0"),
        (13, "blank", ""),
        (14, "comment", "#1 Alice Moor, depth 0"),
        (15, "blank", ""),
        (16, "author", "#2 Bob Lane, depth 0"),
        (17, "blank", ""),
        (18, "comment", "#2 Bob Lane, depth 0"),
        (19, "blank", ""),
        # The crawl stopped after an author line: kept, as unsplit text.
        (20, "unsplit", ""),
    ]
    assert explanation.parsed.flags == ("unsplit_text", "cut_off_author")


def test_replies_show_their_depth_and_authorless_comments_say_so():
    thread = explain_text(THREAD)
    authorless = explain_text(
        "Ferry Fares Rise\n\nFares go up in May.\n\nNotify of\nView all comments\n"
        "Not again, this is the third time this year.\n"
    )

    assert [line.comment for line in thread.lines if line.role == "comment"] == [
        "#1 Alice Moor, depth 0",
        "#2 Bob Lane, depth 1",
    ]
    assert [line.comment for line in authorless.lines if line.role == "comment"] == [
        "#1 (no author), depth 0"
    ]


def test_plain_rendering_shows_layout_flags_confidence_and_each_line():
    text = "The council met once this week.\n\nIt will meet again in June.\n"

    assert render_plain(explain_text(text, "council.txt")) == (
        "== council.txt\n"
        "layout none; 0 comments; confidence 0.9; flags: no_title\n"
        "    1  body         The council met once this week.\n"
        "    2  blank\n"
        "    3  body         It will meet again in June.\n"
    )


def test_the_table_reads_without_colour():
    console = Console(width=120, no_color=True, record=True)

    console.print(render_table(explain_text(PAGE, "fares.txt")))

    text = console.export_text()
    assert (
        "layout wpdiscuz; 2 comments; confidence 0.82; flags: unsplit_text, cut_off_author" in text
    )
    row = next(line for line in text.splitlines() if "Bob Lane" in line)
    assert row.split() == [
        "16",
        "│",
        "author",
        "line",
        "│",
        "#2",
        "Bob",
        "Lane,",
        "depth",
        "0",
        "│",
        "Bob",
        "Lane",
    ]


def test_a_page_without_text_says_a_run_would_quarantine_it():
    rendered = render_plain(explain_text("0 $\n2,500 $\nMAY 2024\n\nSupport SouthFront\n"))

    assert "no article or comment text: a run quarantines it as no_text" in rendered


def test_files_are_decoded_as_a_run_decodes_them(tmp_path: Path):
    page = tmp_path / "cp1252.txt"
    page.write_bytes(b"\xef\xbb\xbfCaf\xe9 Reopens\r\n\r\nThe caf\xe9 reopened.\r\n")

    explanation = explain_file(page)

    assert [(line.role, line.text) for line in explanation.lines] == [
        ("title", "Café Reopens"),
        ("blank", ""),
        ("body", "The café reopened."),
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        pytest.param(
            "missing.txt", None, "cannot read {path}: No such file or directory", id="missing"
        ),
        pytest.param("folder", "dir", "cannot read {path}: Is a directory", id="directory"),
        pytest.param(
            "empty.txt", b"", "{path}: The file is empty or holds only white space.", id="empty"
        ),
    ],
)
def test_a_file_that_cannot_be_explained_raises_a_one_line_error(
    tmp_path: Path, name: str, content: bytes | str | None, message: str
):
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)

    with pytest.raises(ExplainError) as raised:
        explain_file(path)

    assert str(raised.value) == message.format(path=path)


def test_newsflow_explain_prints_each_page_and_fails_in_one_line_for_a_missing_one(
    tmp_path: Path,
):
    page = tmp_path / "council.txt"
    page.write_text("The council met once this week.\n", encoding="utf-8")
    missing = tmp_path / "missing.txt"
    home = tmp_path / "prefect-home"
    env = {**os.environ, "PREFECT_HOME": str(home), "COLUMNS": "120"}

    result = subprocess.run(
        [str(NEWSFLOW), "explain", "--plain", str(page), str(missing)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )

    assert result.returncode == 2
    assert result.stdout == (
        f"== {page}\n"
        "layout none; 0 comments; confidence 0.9; flags: no_title\n"
        "    1  body         The council met once this week.\n"
    )
    assert result.stderr.splitlines() == [
        f"newsflow: cannot read {missing}: No such file or directory"
    ]
    assert not home.exists()  # Prefect was never started, nor imported


def test_explain_never_imports_prefect_or_great_expectations():
    code = (
        "import sys, flows.cli, flows.explain; "
        "flows.explain.explain_text('Title\\n\\nBody.\\n'); "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'great_expectations'}))"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )

    assert result.stdout.strip() == "[]"
