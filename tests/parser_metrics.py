"""Parser quality on hand-labelled pages: titles, body bounds, comment F1 and reply depth."""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.extract import decode
from flows.parse import ParsedPage, parse_page
from flows.train_parser import in_order_pairs

TESTS = Path(__file__).resolve().parent
FIXTURE_PAGES = TESTS / "fixtures" / "pages"
SEED_PAGES = TESTS.parent / "sample_pages"
SEED_EXPECTED = TESTS / "fixtures" / "seeds.expected"

FAMILIES = ("southfront", "other")
LAYOUTS = ("wpdiscuz", "numbered", "bullets", "other", "none", "unknown")
# Comments on these layouts carry a reply depth; depth accuracy is measured on them.
THREADED_LAYOUTS = ("numbered", "bullets")

# The thresholds issue 3 sets on the team's held-out pages.
TITLE_TARGET = 0.95
BODY_TARGET = 0.90
F1_SOUTHFRONT_TARGET = 0.95
F1_ALL_TARGET = 0.85
DEPTH_TARGET = 0.95


@dataclass(frozen=True)
class LabelledComment:
    author: str | None
    opening: str
    depth: int = 0


@dataclass(frozen=True)
class Expected:
    """What a careful human labeller says about one page (an `.expected.json` file)."""

    family: str
    title: str | None
    body_starts: str | None
    body_ends: str | None
    crawl_month: str | None
    layout: str
    comments: tuple[LabelledComment, ...]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Expected":
        comments = tuple(
            LabelledComment(entry[0], entry[1], entry[2] if len(entry) > 2 else 0)
            for entry in data["comments"]
        )
        return cls(
            family=data.get("family", "southfront"),
            title=data["title"],
            body_starts=data["body_starts"],
            body_ends=data["body_ends"],
            crawl_month=data["crawl_month"],
            layout=data["layout"],
            comments=comments,
        )

    @classmethod
    def load(cls, path: Path) -> "Expected":
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass(frozen=True)
class LabelledPage:
    name: str
    page: Path
    expected: Path


def labelled_pages() -> list[LabelledPage]:
    """Every fixture page, then the seed pages, each with its hand labels."""
    pages = [
        LabelledPage(path.stem, path, path.with_name(f"{path.stem}.expected.json"))
        for path in sorted(FIXTURE_PAGES.glob("*.txt"))
    ]
    pages += [
        LabelledPage(f"seed {path.stem}", path, SEED_EXPECTED / f"{path.stem}.expected.json")
        for path in sorted(SEED_PAGES.glob("*.txt"))
    ]
    return pages


def read_and_parse(path: Path) -> ParsedPage:
    """The page as the pipeline sees it: raw bytes through the real decoder, then the parser."""
    text = decode(path.read_bytes()).text
    return parse_page(text if text is not None else "")


def collapse(text: str) -> str:
    """`text` with every run of white space turned into one space."""
    return " ".join(text.split())


def comment_matches(expected: LabelledComment, author: str | None, body: str) -> bool:
    """Same author, and the parsed text starts with the labelled opening words."""
    return author == expected.author and collapse(body).startswith(collapse(expected.opening))


def match_comments(
    expected: Sequence[LabelledComment], parsed: Sequence[Any]
) -> list[tuple[int, int]]:
    """Pairs (expected index, parsed index) of the largest in-order matching (longest common
    subsequence), so a comment found out of page order does not count."""
    return in_order_pairs(
        len(expected),
        len(parsed),
        lambda i, j: comment_matches(expected[i], parsed[j].author, parsed[j].body),
    )


def f1_score(matched: int, n_expected: int, n_parsed: int) -> float:
    """F1 of `matched` true positives; finding nothing where there is nothing scores 1."""
    precision = matched / n_parsed if n_parsed else 1.0
    recall = matched / n_expected if n_expected else 1.0
    if precision + recall == 0:
        return 0.0
    return 2 * precision * recall / (precision + recall)


def _starts(text: str | None, start: str | None) -> bool:
    if start is None or text is None:
        return start is None and text is None
    return text.startswith(start)


def _ends(text: str | None, end: str | None) -> bool:
    if end is None or text is None:
        return end is None and text is None
    return text.endswith(end)


def _short(text: str | None, width: int = 50) -> str:
    if text is None:
        return "None"
    flat = collapse(text)
    return repr(flat if len(flat) <= width else flat[: width - 1] + "…")


@dataclass
class PageScore:
    """How the parser did on one labelled page."""

    name: str
    family: str
    has_title: bool
    title_right: bool
    invented_title: bool
    body_right: bool
    n_expected: int
    n_parsed: int
    n_matched: int
    n_threaded: int
    n_depth_right: int
    layout_right: bool
    crawl_month_right: bool
    problems: list[str] = field(default_factory=list)

    @property
    def falls_short(self) -> bool:
        return bool(self.problems)


def score_page(name: str, expected: Expected, parsed: Any) -> PageScore:
    """Compare a parsed page (ParsedPage or alike) with its labels."""
    problems = []
    has_title = expected.title is not None
    title_right = parsed.title == expected.title
    invented = not has_title and parsed.title is not None
    if not title_right:
        problems.append(f"title {_short(parsed.title)}, expected {_short(expected.title)}")

    starts = _starts(parsed.body, expected.body_starts)
    ends = _ends(parsed.body, expected.body_ends)
    if not starts:
        head = None if parsed.body is None else parsed.body[:40]
        problems.append(f"body starts {_short(head)}, expected {_short(expected.body_starts)}")
    if not ends:
        tail = None if parsed.body is None else parsed.body[-40:]
        problems.append(f"body ends {_short(tail)}, expected {_short(expected.body_ends)}")

    comments = list(parsed.comments)
    pairs = match_comments(expected.comments, comments)
    if len(pairs) != len(expected.comments) or len(pairs) != len(comments):
        matched = {i for i, _ in pairs}
        missed = [c for i, c in enumerate(expected.comments) if i not in matched][:2]
        detail = "; missed " + ", ".join(f"{c.author!r}: {_short(c.opening, 30)}" for c in missed)
        problems.append(
            f"comments {len(pairs)} matched of {len(expected.comments)} expected, "
            f"{len(comments)} parsed" + (detail if missed else "")
        )

    n_threaded = n_depth_right = 0
    for i, j in pairs:
        if expected.layout in THREADED_LAYOUTS or expected.comments[i].depth:
            n_threaded += 1
            n_depth_right += getattr(comments[j], "depth", 0) == expected.comments[i].depth
    if n_depth_right != n_threaded:
        problems.append(f"depth right on {n_depth_right} of {n_threaded} matched comments")

    layout_right = parsed.layout == expected.layout
    if not layout_right:
        problems.append(f"layout {parsed.layout!r}, expected {expected.layout!r}")
    month = parsed.crawl_month.isoformat() if parsed.crawl_month else None
    month_right = month == expected.crawl_month
    if not month_right:
        problems.append(f"crawl month {month}, expected {expected.crawl_month}")

    return PageScore(
        name=name,
        family=expected.family,
        has_title=has_title,
        title_right=has_title and title_right,
        invented_title=invented,
        body_right=starts and ends,
        n_expected=len(expected.comments),
        n_parsed=len(comments),
        n_matched=len(pairs),
        n_threaded=n_threaded,
        n_depth_right=n_depth_right,
        layout_right=layout_right,
        crawl_month_right=month_right,
        problems=problems,
    )


def score_all(pages: Iterable[LabelledPage]) -> list[PageScore]:
    """Score every page; a parser crash counts as an empty parse and is listed as a problem."""
    scores = []
    for page in pages:
        expected = Expected.load(page.expected)
        try:
            parsed: Any = read_and_parse(page.page)
        except Exception as error:  # the report must show every page, even a crashing one
            parsed = ParsedPage(None, None, None, "none", [])
            score = score_page(page.name, expected, parsed)
            score.problems.insert(0, f"parser raised {type(error).__name__}: {error}")
            scores.append(score)
            continue
        scores.append(score_page(page.name, expected, parsed))
    return scores


@dataclass(frozen=True)
class Ratio:
    right: int
    total: int

    @property
    def value(self) -> float | None:
        return self.right / self.total if self.total else None

    def __str__(self) -> str:
        value = self.value
        shown = "n/a" if value is None else f"{value:6.1%}"
        return f"{self.right}/{self.total} = {shown}"


@dataclass(frozen=True)
class CommentF1:
    matched: int
    expected: int
    parsed: int

    @property
    def value(self) -> float:
        return f1_score(self.matched, self.expected, self.parsed)

    def __str__(self) -> str:
        return (
            f"{self.value:.3f} ({self.matched} matched, {self.expected} expected, "
            f"{self.parsed} parsed)"
        )


def comment_f1(scores: Iterable[PageScore]) -> CommentF1:
    """F1 pooled over pages: every comment counts the same, wherever it is."""
    scores = list(scores)
    return CommentF1(
        matched=sum(s.n_matched for s in scores),
        expected=sum(s.n_expected for s in scores),
        parsed=sum(s.n_parsed for s in scores),
    )


@dataclass(frozen=True)
class Metrics:
    pages: int
    titles: Ratio
    invented_titles: int
    bodies: Ratio
    f1_southfront: CommentF1
    f1_all: CommentF1
    depth: Ratio
    layouts: Ratio
    crawl_months: Ratio

    @classmethod
    def of(cls, scores: Sequence[PageScore]) -> "Metrics":
        titled = [s for s in scores if s.has_title]
        return cls(
            pages=len(scores),
            titles=Ratio(sum(s.title_right for s in titled), len(titled)),
            invented_titles=sum(s.invented_title for s in scores),
            bodies=Ratio(sum(s.body_right for s in scores), len(scores)),
            f1_southfront=comment_f1(s for s in scores if s.family == "southfront"),
            f1_all=comment_f1(scores),
            depth=Ratio(sum(s.n_depth_right for s in scores), sum(s.n_threaded for s in scores)),
            layouts=Ratio(sum(s.layout_right for s in scores), len(scores)),
            crawl_months=Ratio(sum(s.crawl_month_right for s in scores), len(scores)),
        )

    def checks(self) -> list[tuple[str, str, str, bool]]:
        """(figure, value, target, met) for each threshold of issue 3."""
        depth = self.depth.value

        def at_least(value: float | None, target: float) -> bool:
            return value is not None and value >= target

        return [
            (
                "titles right",
                str(self.titles),
                f">= {TITLE_TARGET:.0%}",
                at_least(self.titles.value, TITLE_TARGET),
            ),
            ("titles invented", str(self.invented_titles), "0", self.invented_titles == 0),
            (
                "body start and end right",
                str(self.bodies),
                f">= {BODY_TARGET:.0%}",
                at_least(self.bodies.value, BODY_TARGET),
            ),
            (
                "comment F1, SouthFront",
                str(self.f1_southfront),
                f">= {F1_SOUTHFRONT_TARGET}",
                self.f1_southfront.value >= F1_SOUTHFRONT_TARGET,
            ),
            (
                "comment F1, all pages",
                str(self.f1_all),
                f">= {F1_ALL_TARGET}",
                self.f1_all.value >= F1_ALL_TARGET,
            ),
            (
                "reply depth right",
                str(self.depth),
                f">= {DEPTH_TARGET:.0%}",
                at_least(depth, DEPTH_TARGET),
            ),
        ]


def report(scores: Sequence[PageScore]) -> str:
    """A table of the figures and the pages that fall short, for people to read."""
    metrics = Metrics.of(scores)
    families = ", ".join(
        f"{sum(s.family == family for s in scores)} {family}" for family in FAMILIES
    )
    rows = [
        (figure, value, target, "ok" if met else "BELOW")
        for figure, value, target, met in metrics.checks()
    ]
    rows += [
        ("layout right (no target)", str(metrics.layouts), "", ""),
        ("crawl month right (no target)", str(metrics.crawl_months), "", ""),
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(4)]
    lines = [f"Parser metrics on {metrics.pages} labelled pages ({families})"]
    lines += [
        (
            "  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    short = [s for s in scores if s.falls_short]
    lines.append(f"Pages that fall short: {len(short)}")
    for score in short:
        lines.append(f"  {score.name} [{score.family}]")
        lines += [f"      {problem}" for problem in score.problems]
    return "\n".join(lines)
