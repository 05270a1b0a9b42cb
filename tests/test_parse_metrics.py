"""Parser quality over every labelled page, measured as issue 3 measures it, and the metric code."""

import json
import re
from types import SimpleNamespace

import pytest
from figures import FIGURES, RecordProperty
from parser_metrics import (
    BODY_TARGET,
    DEPTH_TARGET,
    F1_ALL_TARGET,
    F1_SOUTHFRONT_TARGET,
    FAMILIES,
    FIXTURE_PAGES,
    LAYOUTS,
    SEED_EXPECTED,
    SEED_PAGES,
    TITLE_TARGET,
    Expected,
    LabelledComment,
    Metrics,
    PageScore,
    comment_f1,
    f1_score,
    labelled_pages,
    match_comments,
    report,
    score_all,
    score_page,
)

from flows import parse

EXPECTED_KEYS = {"title", "body_starts", "body_ends", "crawl_month", "layout", "comments"}


@pytest.fixture(scope="module")
def scores() -> list[PageScore]:
    return score_all(labelled_pages())


@pytest.fixture(scope="module")
def metrics(scores: list[PageScore]) -> Metrics:
    return Metrics.of(scores)


def shortfalls(scores: list[PageScore], attribute: str) -> str:
    return ", ".join(s.name for s in scores if not getattr(s, attribute))


# The labelled page set


def test_every_page_has_well_formed_labels() -> None:
    pages = labelled_pages()

    assert len([p for p in pages if p.page.parent == FIXTURE_PAGES]) >= 40
    assert len([p for p in pages if p.page.parent == SEED_PAGES]) == 2
    orphans = {p.stem.removesuffix(".expected") for p in FIXTURE_PAGES.glob("*.json")}
    assert orphans == {p.name for p in pages if p.page.parent == FIXTURE_PAGES}
    for page in pages:
        data = json.loads(page.expected.read_text(encoding="utf-8"))
        assert EXPECTED_KEYS <= set(data) <= {*EXPECTED_KEYS, "family", "train_labeller"}, page.name
        expected = Expected.from_json(data)
        assert expected.family in FAMILIES, page.name
        assert expected.layout in LAYOUTS, page.name
        assert (expected.body_starts is None) == (expected.body_ends is None), page.name
        assert all(len(entry) in (2, 3) for entry in data["comments"]), page.name
        # Every comment has opening words, but an author line with no text under it (an
        # initials layout's empty comment).
        assert all((c.opening.strip() or c.author) and c.depth >= 0 for c in expected.comments), (
            page.name
        )
        # Comments exactly when the labeller saw a comment section the parser can split.
        assert bool(expected.comments) == (expected.layout not in ("none", "unknown")), page.name


def test_the_metrics_layouts_are_the_parsers() -> None:
    assert set(LAYOUTS) == set(parse.LAYOUTS)


def test_seed_labels_agree_with_layouts_md() -> None:
    """LAYOUTS.md: `000_…` has 30 comments, 7 without an author; `002_…` 14 and 4."""
    counts = {}
    for path in sorted(SEED_EXPECTED.glob("*.expected.json")):
        comments = Expected.load(path).comments
        counts[path.name[:3]] = (len(comments), sum(c.author is None for c in comments))

    assert counts == {"000": (30, 7), "002": (14, 4)}


# The figures of issue 3


def test_print_parser_metrics(scores: list[PageScore], record_property: RecordProperty) -> None:
    text = report(scores)
    record_property(FIGURES, "parser on the fixture pages\n" + text)

    # Every labelled page on disk is counted, every figure has a row with its target, and
    # each page that falls short is named under the count.
    pages = len(list(FIXTURE_PAGES.glob("*.expected.json"))) + 2
    lines = text.splitlines()
    assert lines[0].startswith(f"Parser metrics on {pages} labelled pages (")
    figures = [re.split(r"\s{2,}", line.strip())[0] for line in lines[1:9]]
    assert figures == [
        "titles right",
        "titles invented",
        "body start and end right",
        "comment F1, SouthFront",
        "comment F1, all pages",
        "reply depth right",
        "layout right (no target)",
        "crawl month right (no target)",
    ]
    short = [s.name for s in scores if s.falls_short]
    count = lines.index(f"Pages that fall short: {len(short)}")
    assert [
        line.split()[0] for line in lines[count + 1 :] if not line.startswith("      ")
    ] == short


def test_titles(metrics: Metrics, scores: list[PageScore]) -> None:
    assert metrics.titles.value is not None
    assert metrics.titles.value >= TITLE_TARGET, shortfalls(
        [s for s in scores if s.has_title], "title_right"
    )


def test_no_invented_titles(metrics: Metrics, scores: list[PageScore]) -> None:
    assert metrics.invented_titles == 0, [s.name for s in scores if s.invented_title]


def test_body_start_and_end(metrics: Metrics, scores: list[PageScore]) -> None:
    assert metrics.bodies.value is not None
    assert metrics.bodies.value >= BODY_TARGET, shortfalls(scores, "body_right")


def test_comment_f1_on_southfront_pages(metrics: Metrics, scores: list[PageScore]) -> None:
    short = [s.name for s in scores if s.family == "southfront" and s.problems]
    assert metrics.f1_southfront.value >= F1_SOUTHFRONT_TARGET, short


def test_comment_f1_on_all_pages(metrics: Metrics, scores: list[PageScore]) -> None:
    assert metrics.f1_all.value >= F1_ALL_TARGET, [s.name for s in scores if s.problems]


def test_reply_depth(metrics: Metrics, scores: list[PageScore]) -> None:
    assert metrics.depth.total > 0, "no threaded comment was matched"
    assert metrics.depth.value is not None
    assert metrics.depth.value >= DEPTH_TARGET, [
        s.name for s in scores if s.n_depth_right < s.n_threaded
    ]


# The metric code itself, on hand-made cases


def comment(author: str | None, body: str, depth: int = 0) -> SimpleNamespace:
    return SimpleNamespace(author=author, body=body, depth=depth)


def page(title: str | None, body: str | None, comments: list, layout: str = "wpdiscuz"):
    return SimpleNamespace(
        title=title, body=body, crawl_month=None, layout=layout, comments=comments
    )


def labels(
    title: str | None, comments: list, layout: str = "wpdiscuz", family: str = "southfront"
) -> Expected:
    return Expected.from_json(
        {
            "family": family,
            "title": title,
            "body_starts": "The body",
            "body_ends": "ends here.",
            "crawl_month": None,
            "layout": layout,
            "comments": comments,
        }
    )


@pytest.mark.parametrize(
    ("matched", "n_expected", "n_parsed", "f1"),
    [
        pytest.param(3, 4, 6, 0.6, id="p-half-r-three-quarters"),
        pytest.param(4, 4, 4, 1.0, id="perfect"),
        pytest.param(0, 0, 0, 1.0, id="nothing-to-find-found-nothing"),
        pytest.param(0, 0, 2, 0.0, id="invented-comments"),
        pytest.param(0, 3, 0, 0.0, id="found-nothing"),
    ],
)
def test_f1_score(matched: int, n_expected: int, n_parsed: int, f1: float) -> None:
    assert f1_score(matched, n_expected, n_parsed) == pytest.approx(f1)


def test_comments_match_in_page_order_on_author_and_opening_words() -> None:
    expected = [
        LabelledComment("Ana", "First   words\n\nof Ana"),
        LabelledComment(None, "No author here"),
        LabelledComment("Bo", "Bo replies"),
        LabelledComment("Ana", "Ana again"),
    ]
    parsed = [
        comment("Ana", "First words of Ana, and more."),  # white space collapsed: a match
        comment("Ana", "Ana again"),  # out of order against Bo below: only one of them counts
        comment("Bo", "Bo replies at length"),
        comment("No author here", "Some text"),  # the author-less text taken as an author
    ]

    pairs = match_comments(expected, parsed)

    assert len(pairs) == 2
    assert pairs[0] == (0, 0)
    assert f1_score(len(pairs), len(expected), len(parsed)) == pytest.approx(0.5)


def test_score_page_counts_titles_bodies_comments_and_depth() -> None:
    expected = labels(
        "A Title",
        [["Ana", "Top", 0], ["Bo", "Reply", 1], ["Ana", "Reply to Bo", 2], ["Cy", "Top", 0]],
        layout="numbered",
    )
    parsed = page(
        "A Title",
        "The body text ends here.",
        [comment("Ana", "Top"), comment("Bo", "Reply", 1), comment("Ana", "Reply to Bo", 1)],
        layout="numbered",
    )

    score = score_page("hand-made", expected, parsed)

    assert (score.title_right, score.invented_title, score.body_right) == (True, False, True)
    assert (score.n_matched, score.n_expected, score.n_parsed) == (3, 4, 3)
    assert (score.n_depth_right, score.n_threaded) == (2, 3)
    assert score.falls_short


def test_an_invented_title_and_a_wrong_body_are_counted() -> None:
    expected = labels(None, [])
    parsed = page("Invented", "The body but not its end", [], layout="none")

    score = score_page("hand-made", expected, parsed)
    metrics = Metrics.of([score])

    assert metrics.invented_titles == 1
    assert metrics.titles.total == 0
    assert metrics.bodies.value == 0.0
    assert not score.layout_right


def test_comment_f1_is_pooled_over_pages_and_split_by_family() -> None:
    body = "The body ends here."
    southfront = score_page(
        "sf",
        labels("T", [["Ana", "Hi"], ["Bo", "Yo"]]),
        page("T", body, [comment("Ana", "Hi there"), comment("Bo", "Yo!")]),
    )
    other = score_page(
        "other",
        labels("T", [["Cy", "Hello"], ["Di", "Bye"]], family="other"),
        page("T", body, [comment("Hello", "Made up")]),
    )

    metrics = Metrics.of([southfront, other])

    assert metrics.f1_southfront.value == 1.0
    # 2 matched of 4 expected and 3 parsed: precision 2/3, recall 1/2.
    assert metrics.f1_all.value == pytest.approx(4 / 7)
    assert comment_f1([other]).value == 0.0
