"""Tests for flows.line_features: the shape attributes the line labeller reads."""

from pathlib import Path

import polars as pl

from flows import parse
from flows.extract import decode
from flows.line_features import LINES_SCHEMA, line_attribute_ids, line_features

PAGES = Path(__file__).parent / "fixtures" / "pages"


def _lines(*pages: list[tuple[int, str]]) -> pl.DataFrame:
    """One row per non-blank line: (line number, text) per page, in page order."""
    rows = [
        (page, position, line_no, line, line, None)
        for page, lines in enumerate(pages)
        for position, (line_no, line) in enumerate(lines)
    ]
    return pl.DataFrame(rows, schema=LINES_SCHEMA, orient="row")


def _with(attribute: str, features: list[list[str]]) -> list[bool]:
    return [attribute in line for line in features]


def test_a_gap_is_wide_or_narrow_against_the_page_s_usual_gap() -> None:
    # Page 0 spaces its lines by one blank line, and once by three; page 1 by none, once by one.
    spaced = [(0, "Title"), (2, "One."), (4, "Two."), (8, "Three."), (10, "Four.")]
    dense = [(0, "Title"), (1, "One."), (2, "Two."), (4, "Three.")]
    features = line_features(_lines(spaced, dense))

    wide, narrow = _with("gap_wide", features), _with("gap_narrow", features)

    # The first line of a page has no gap above it to compare.
    assert (wide[:5], wide[5:]) == ([False, False, False, True, False], [False, False, False, True])
    assert (narrow[:5], narrow[5:]) == ([True, False, False, False, False], [False] * 4)
    assert "gap=3" in features[3] and "gap=1" in features[8]


def test_the_labeller_numbers_the_very_attributes_it_is_trained_on() -> None:
    # Each fixture page's lines (with their known chrome), and the features of all at once.
    texts = [decode(path.read_bytes()).text or "" for path in sorted(PAGES.glob("*.txt"))]
    prepared = [parse.prepared_page(text) for text in texts]
    lines = parse._lines_frame(prepared, [page.content() for page, _ in prepared])
    features = line_features(lines)
    seen = sorted({attribute for line in features for attribute in line})
    # A model that knows every other attribute seen: the rest must number 0.
    known = seen[::2]
    number = {attribute: i for i, attribute in enumerate(known, start=1)}

    ids = line_attribute_ids(lines, known)

    assert ids.shape[0] == len(features) > 1_000
    for line, row in zip(features, ids.tolist(), strict=True):
        expected = sorted(number[attribute] for attribute in line if attribute in number)
        assert sorted(i for i in row if i) == expected
