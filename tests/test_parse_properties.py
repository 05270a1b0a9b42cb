"""Properties of flows.parse on arbitrary text: it never raises, loses no line, and is
deterministic."""

import re
from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.parse import (
    AUTHOR,
    BLANK,
    CHROME,
    CHROME_LINES,
    COMMENT,
    HEADER,
    TITLE,
    UNSPLIT,
    ParsedPage,
    parse_page,
)

# A thousand parses of generated text, run for their properties: coverage is measured by the
# parser's own tests, and tracing every line here would add half again to this module's time.
pytestmark = pytest.mark.no_cover

CHROME_LINE = re.compile("|".join(f"(?:{pattern})" for pattern in CHROME_LINES))
HEADER_LINE = re.compile(r"\d[\d,.]* ?\$|[A-Z]+ (?:19|20)\d\d")
RELATED_LINK = re.compile(r"\d{1,3}[.)] \S.*")
# The number or bullet that opens a thread comment is not part of its text.
THREAD_MARKER = re.compile(r"^(?:\d{1,4}[.)]|[•▪]) +")
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
SENTENCE_END = (".", "!", "?", "…", '"', "”")

# Lines in the shapes pages are made of, so the generated pages reach every branch of the
# parser: headers, chrome, author lines of every layout, names, sentences, blank lines.
names = st.sampled_from(["Anna Berg", "Jon Dahl", "Séamus Ó Néill", "Who said it was me?", "Su"])
sentences = st.sampled_from(
    [
        "The council met on Friday.",
        "Prices rose again",
        "Is this true?",
        "Harbour Fees Rise Again For Small Boats",
        "can`t believe it \u2019\u2019 really",
        "يا له من خبر",
    ]
)
page_lines = st.one_of(
    st.just(""),
    st.just(""),
    names,
    sentences,
    st.sampled_from(["0 $", "2,500 $", "MARCH 2025", "More on this topic:", "1. In Video: A Link"]),
    st.sampled_from(
        [
            "Support SouthFront",
            "Click to see the full-size image",
            "Illustrative image, source: an agency",
            "Notify of",
            "View all comments",
            "2 thoughts on “A Title”",
            "Comments are closed.",
            "Leave a Reply",
        ]
    ),
    st.builds(
        "{}{}. {} says:".format, st.sampled_from(["", "  ", "    "]), st.integers(1, 12), names
    ),
    st.builds("{}• {}".format, st.sampled_from(["  ", "    ", "      "]), names),
    st.builds("{}{}".format, st.sampled_from(["  ", "    ", "\t"]), sentences),
    st.text(max_size=40),
)
pages = st.one_of(
    st.text(),
    st.lists(page_lines, max_size=60).map("\n".join),
)


def lines_by_role(text: str, parsed: ParsedPage) -> dict[str, list[str]]:
    by_role: dict[str, list[str]] = defaultdict(list)
    for line, role in zip(text.split("\n"), parsed.roles, strict=True):
        # A line of only zero-width characters is blank.
        by_role[role].append(line.strip().strip(ZERO_WIDTH).strip())
    return by_role


def text_lines(text: str | None) -> list[str]:
    return [] if text is None else [line for line in text.split("\n") if line]


# No deadline: a page costs the labeller's fixed set-up (tens of milliseconds), and what is
# tested here is the result, not the time.
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pages)
def test_every_line_ends_up_in_exactly_one_place(text: str) -> None:
    parsed = parse_page(text)
    by_role = lines_by_role(text, parsed)

    assert all(line == "" for line in by_role.pop(BLANK, []))
    assert all(line for lines in by_role.values() for line in lines)
    assert by_role.pop(TITLE, []) == ([] if parsed.title is None else [parsed.title])
    assert by_role.pop("body", []) == text_lines(parsed.body)
    comment_lines = by_role.pop(COMMENT, [])
    assert [THREAD_MARKER.sub("", line, count=1) for line in comment_lines] == [
        THREAD_MARKER.sub("", line, count=1)
        for comment in parsed.comments
        for line in text_lines(comment.body)
    ]
    assert by_role.pop(UNSPLIT, []) == text_lines(parsed.unsplit)
    authors = [comment.author for comment in parsed.comments if comment.author is not None]
    author_lines = by_role.pop(AUTHOR, [])
    assert len(author_lines) == len(authors)
    assert all(author in line for author, line in zip(authors, author_lines, strict=True))
    assert all(HEADER_LINE.fullmatch(line) for line in by_role.pop(HEADER, []))
    # Chrome is what the known patterns name, captions of the title, and lines the labeller
    # calls chrome that are not prose: a line of six words or more that ends a sentence is
    # never dropped.
    assert all(
        CHROME_LINE.fullmatch(line)
        or RELATED_LINK.fullmatch(line)
        or line.casefold() == (parsed.title or "").casefold()
        or len(line.split()) < 6
        or not line.endswith(SENTENCE_END)
        for line in by_role.pop(CHROME, [])
    )
    assert by_role == {}


@settings(max_examples=200, deadline=None)
@given(pages)
def test_parsing_is_deterministic(text: str) -> None:
    assert parse_page(text) == parse_page(text)


@settings(max_examples=200, deadline=None)
@given(pages)
def test_thread_parents_are_earlier_comments_one_level_up(text: str) -> None:
    comments = parse_page(text).comments

    for index, comment in enumerate(comments):
        assert comment.depth >= 0
        if comment.depth == 0:
            assert comment.parent is None
        else:
            assert comment.parent is not None and comment.parent < index
            assert comments[comment.parent].depth == comment.depth - 1
