"""`newsflow explain`: the role each line of a page got, the layout, flags and confidence."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from flows import explain
from flows.explain import ExplainError, explain_file, explain_text, render_plain, render_table
from flows.parse import Comment, ParsedPage

NEWSFLOW = Path(sys.executable).with_name("newsflow")
# Written for these tests, with how a parser splits it: every role a line can get.
PAGE = """\
MAY 2024

Ferry Fares Rise

Fares go up in May.

Notify of
Alice Moor

Again?

  Not a reply.

Bob Lane
Alice Moor
"""
SPLIT = ParsedPage(
    title="Ferry Fares Rise",
    body="Fares go up in May.",
    crawl_month=None,
    layout="wpdiscuz",
    comments=[
        Comment("Alice Moor", ["Again?"], author_line=7, text_lines=[9]),
        Comment(None, ["Not a reply."], depth=1, parent=0, text_lines=[11]),
    ],
    unsplit="Bob Lane\nAlice Moor",
    roles=[
        *("header", "blank", "title", "blank", "body", "blank", "chrome", "author", "blank"),
        *("comment", "blank", "comment", "blank", "unsplit", "unsplit", "blank"),
    ],
    flags=("unsplit_text", "cut_off_author"),
    confidence=0.82,
)
PLAIN = """\
== fares.txt
layout wpdiscuz; 2 comments; confidence 0.82; flags: unsplit_text, cut_off_author
    1  header                                MAY 2024
    2  blank
    3  title                                 Ferry Fares Rise
    4  blank
    5  body                                  Fares go up in May.
    6  blank
    7  chrome                                Notify of
    8  author line  #1 Alice Moor, depth 0   Alice Moor
    9  blank
   10  comment      #1 Alice Moor, depth 0   Again?
   11  blank
   12  comment      #2 (no author), depth 1    Not a reply.
   13  blank
   14  unsplit                               Bob Lane
   15  unsplit                               Alice Moor
"""


@pytest.fixture
def split_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Explain PAGE as SPLIT says, whatever the current parser makes of it."""
    monkeypatch.setattr(explain, "parse_page", lambda text: SPLIT if text == PAGE else None)


@pytest.mark.usefixtures("split_as_written")
def test_each_line_shows_its_role_and_the_comment_it_belongs_to():
    assert render_plain(explain_text(PAGE, "fares.txt")) == PLAIN


@pytest.mark.usefixtures("split_as_written")
def test_the_table_reads_without_colour():
    console = Console(width=120, no_color=True, record=True)

    console.print(render_table(explain_text(PAGE, "fares.txt")))

    text = console.export_text()
    assert PLAIN.splitlines()[1] in text
    row = next(line for line in text.splitlines() if "#2" in line)
    assert [cell.strip() for cell in row.split("│")] == [
        "12",
        "comment",
        "#2 (no author), depth 1",
        "Not a reply.",
    ]


def test_the_current_parser_gives_every_line_one_role():
    explanation = explain_text(PAGE)

    parsed = explanation.parsed
    assert [line.role for line in explanation.lines] == parsed.roles[: len(explanation.lines)]
    assert {line.role for line in explanation.lines} <= set(explain.ROLES)
    in_comments = {
        index + 1
        for comment in parsed.comments
        for index in [comment.author_line, *comment.text_lines]
        if index is not None
    }
    assert {line.number for line in explanation.lines if line.comment} == in_comments


def test_a_page_without_text_says_a_run_would_quarantine_it():
    rendered = render_plain(explain_text("0 $\n2,500 $\nMAY 2024\n\n"))

    assert "no article or comment text: a run quarantines it as no_text" in rendered


def test_files_are_decoded_as_a_run_decodes_them(tmp_path: Path):
    page = tmp_path / "cp1252.txt"
    page.write_bytes(b"\xef\xbb\xbfCaf\xe9 Reopens\r\n\r\nThe caf\xe9 reopened.\r\n")

    explanation = explain_file(page)

    assert [line.text for line in explanation.lines] == ["Café Reopens", "", "The café reopened."]


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
    page = tmp_path / "fares.txt"
    page.write_text(PAGE, encoding="utf-8")
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
    assert result.stdout == render_plain(explain_file(page))
    assert len(result.stdout.splitlines()) == 2 + len(PAGE.splitlines())
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
