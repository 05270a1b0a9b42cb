"""Split each page into an article (title, body) and its reader comments, without site chrome."""

import hashlib
import multiprocessing
import re
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date

import polars as pl

PARSER_VERSION = "2"
# Comment layouts the parser tells apart: wpDiscuz author-line comments, numbered and bullet
# threads, no comment section, and a comment section it could not split into comments.
LAYOUTS = ("wpdiscuz", "numbered", "bullets", "none", "unknown")

_MONTH_NAMES = (
    "JANUARY FEBRUARY MARCH APRIL MAY JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER"
)
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(), start=1)}
_BANNER_LINE = re.compile(r"\d[\d,.]* ?\$")
_MONTH_LINE = re.compile(r"(?P<month>[A-Z]+) (?P<year>(19|20)\d\d)")

# Lines that belong to the site around the article, never to its text. The data-quality gate
# checks titles, bodies and comments against this same list.
ARTICLE_CHROME = (
    r"Support SouthFront",
    r"Click to see (?:the )?full-size (?:image|map|photo)\.?",
    r"(?i:illustrative image)\.?(?:,? (?i:source)\b.*)?",
    r"(?i:file (?:image|photo))\.?",
    r"(?:IMAGE|FILE PHOTO):.*",
    r"Written by(?: \S+){1,6}",
    r"South Front",
    r"PayPal:.*",
    r"Do you like this content\? Consider helping us!",
    r"More on this topic:",
)
# wpDiscuz comment-widget strings: the first one seen opens the comment section.
WIDGET_CHROME = (
    r"Notify of",
    r"Newest Most Voted",
    r"Oldest Newest Most Voted",
    r"Inline Feedbacks",
    r"View all comments",
    r"Load More Comments",
    r"Would love your thoughts, please comment\.x",
)
# WordPress and other comment-section headers and closers: they open the comment section too.
COMMENT_SECTION_CHROME = (
    r"(?:\d+|One|No) (?i:thoughts?|comments?|responses?|replies)(?: (?:on|to) .+)?",
    r"(?:(?i:readers?'?|users?|visitors?) )?(?i:comments?|responses?|replies) ?\(\d+\)",
    r"(?i:readers?'?|users?|visitors?) (?i:comments|responses)",
    r"Comments are closed\.?",
    r"Leave a (?:Reply|Comment)(?: to .+)?(?: Cancel reply)?",
    r"Your email address will not be published\..*",
    r"You must be logged in to post a comment\.?",
)
CHROME_LINES = ARTICLE_CHROME + WIDGET_CHROME + COMMENT_SECTION_CHROME


def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


_CHROME = _any_of(CHROME_LINES)
_SECTION_OPENER = _any_of(WIDGET_CHROME + COMMENT_SECTION_CHROME)
_WIDGET = _any_of(WIDGET_CHROME)
_RELATED_LINKS = re.compile(r"More on this topic:")
_RELATED_LINK = re.compile(r"\d{1,3}[.)] \S.*")
# Numbered-thread author lines (`1. Alice says:`); the number and the colon are optional.
_SAYS_LINE = re.compile(r"(?:(?P<number>\d{1,4})[.)] +)?(?P<name>\S.{0,59}?) +says:?")
# Bullet-thread author lines (`• Alice`).
_BULLET_LINE = re.compile(r"• +(?P<name>\S.{0,59})")
_NUMBERED = re.compile(r"\d{1,4}[.)] ")

# Below this many pages a batch is parsed in the calling process; above, in chunks on the
# workers (several per worker, so a slow chunk does not leave the others idle).
_MIN_PAGES_FOR_WORKERS = 64
_CHUNKS_PER_BATCH = 8

# A title is one line, not a paragraph of body text.
_MAX_TITLE_CHARS = 250
# Author lines are short display names.
_MAX_AUTHOR_CHARS = 60
_MAX_AUTHOR_WORDS = 6
_SENTENCE_END = tuple(".!?…:;,")
_DIGIT = re.compile(r"\d")
# Separators of metadata lines (`Sort by: Top | Newest`, `Reply · Like`), not of names.
_NOT_IN_NAMES = re.compile(r"[|·]|:$")
# Share of long words that start upper-case, above which a line reads as a headline.
_HEADLINE_CASE = 0.75

# What each line of a page became; every non-blank line gets exactly one role.
BLANK, HEADER, TITLE, CHROME, BODY, AUTHOR, COMMENT, UNSPLIT = (
    "blank",
    "header",
    "title",
    "chrome",
    "body",
    "author",
    "comment",
    "unsplit",
)


@dataclass
class Comment:
    author: str | None
    paragraphs: list[str] = field(default_factory=list)
    depth: int = 0
    # Index of the comment replied to, in the page's comment list.
    parent: int | None = None
    # Indices of the page lines the comment was read from: its author line, then its text.
    author_line: int | None = field(default=None, repr=False, compare=False)
    text_lines: list[int] = field(default_factory=list, repr=False, compare=False)

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass
class ParsedPage:
    title: str | None
    body: str | None
    crawl_month: date | None
    layout: str
    comments: list[Comment]
    # Text of a comment section that could not be split into comments (layout `unknown`).
    unsplit: str | None = None
    # The role of each input line (see BLANK ... UNSPLIT), so no line goes unaccounted for.
    roles: list[str] = field(default_factory=list)
    # Reasons an analyst should look at the page (names in REVIEW_FLAGS), in that order.
    flags: tuple[str, ...] = ()
    # How sure the parser is of the split, 0 to 1 (see _review_flags).
    confidence: float = 1.0


@dataclass
class _Block:
    """A run of consecutive content lines and the blank lines right before it."""

    indices: list[int]
    lines: list[str]
    blanks_before: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def _names(
    lines: list[str], candidates: list[int], name_of: Callable[[str], str | None]
) -> dict[int, str]:
    found = ((index, name_of(lines[index])) for index in candidates)
    return {index: name for index, name in found if name is not None}


class _Page:
    """The lines of one page and the role given to each so far."""

    def __init__(self, text: str) -> None:
        self.raw = text.split("\n")
        self.lines = [line.strip() for line in self.raw]
        self.roles: list[str | None] = [None if line else BLANK for line in self.lines]
        # Author lines of numbered and bullet threads, by line index.
        says = [i for i, line in enumerate(self.lines) if line.endswith(("says", "says:"))]
        bullets = [i for i, line in enumerate(self.lines) if line.startswith("•")]
        self.says = _names(self.lines, says, _says_name)
        self.bullets = _names(self.lines, bullets, _bullet_name)

    def __len__(self) -> int:
        return len(self.lines)

    def indent(self, index: int) -> int:
        raw = self.raw[index].expandtabs(4)
        return len(raw) - len(raw.lstrip())

    def open_lines(self, start: int, end: int) -> list[int]:
        """Indices of lines in [start, end) that have no role yet."""
        return [index for index in range(start, end) if self.roles[index] is None]

    def open_authors(self, names: dict[int, str], start: int) -> list[int]:
        """Indices of the thread author lines from `start` on that have no role yet."""
        return [index for index in names if index >= start and self.roles[index] is None]

    def line_block(self, index: int) -> _Block:
        return _Block([index], [self.lines[index]], 0)

    def chrome_lines(self, start: int, end: int) -> list[int]:
        return [index for index in range(start, end) if self.roles[index] == CHROME]

    def blocks(self, start: int, end: int) -> list[_Block]:
        """Group the unassigned lines of [start, end) into blocks. Lines with a role (chrome,
        captions) end a block; only the blank lines right before a block count as its gap."""
        blocks: list[_Block] = []
        blanks = 0
        current: list[int] = []
        for index in range(start, end):
            role = self.roles[index]
            if role is None:
                current.append(index)
                continue
            if current:
                blocks.append(_Block(current, [self.lines[i] for i in current], blanks))
                current, blanks = [], 0
            blanks = blanks + 1 if role == BLANK else 0
        if current:
            blocks.append(_Block(current, [self.lines[i] for i in current], blanks))
        return blocks


def parse_page(text: str) -> ParsedPage:
    """Parse one decoded page."""
    page = _Page(text)
    start, crawl_month = _mark_header(page)
    title = _mark_title(page, start)
    _mark_chrome(page, title)
    section = _comment_section_start(page, start)

    if section is None:
        body_blocks = page.blocks(start, len(page))
        body_blocks, comments = _split_off_comments(body_blocks)
        layout = "wpdiscuz" if comments else "none"
        unsplit: list[_Block] = []
    else:
        body_blocks = page.blocks(start, section)
        layout, comments, unsplit = _comment_section(page, section)
    comments, cut_off = _without_cut_off_author(page, comments)
    unsplit += cut_off

    for comment in comments:
        if comment.author_line is not None:
            page.roles[comment.author_line] = AUTHOR
        for index in comment.text_lines:
            page.roles[index] = COMMENT
    for role, blocks in ((BODY, body_blocks), (UNSPLIT, unsplit)):
        for block in blocks:
            for index in block.indices:
                page.roles[index] = role
    parsed = ParsedPage(
        title=title,
        body=_paragraphs(body_blocks),
        crawl_month=crawl_month,
        layout=layout,
        comments=comments,
        unsplit=_paragraphs(unsplit),
        roles=[role or BODY for role in page.roles],
    )
    parsed.flags, parsed.confidence = _review_flags(parsed, page.lines, cut_off=bool(cut_off))
    return parsed


def _paragraphs(blocks: list[_Block]) -> str | None:
    return "\n\n".join(block.text for block in blocks) or None


def _mark_header(page: _Page) -> tuple[int, date | None]:
    """Mark the donation banner and the month line; return where the page proper starts."""
    crawl_month = None
    index = 0
    while index < len(page):
        line = page.lines[index]
        month = _MONTH_LINE.fullmatch(line)
        if not line:
            pass
        elif _BANNER_LINE.fullmatch(line):
            page.roles[index] = HEADER
        elif month and month["month"] in _MONTHS and crawl_month is None:
            crawl_month = date(int(month["year"]), _MONTHS[month["month"]], 1)
            page.roles[index] = HEADER
        else:
            break
        index += 1
    return index, crawl_month


def _mark_title(page: _Page, start: int) -> str | None:
    """Take the first line as the title when it reads like one, not like body text.

    A line repeated further down (an image caption) is the title; a page that opens with
    chrome has none, unless the next line is repeated further down.
    """
    first = next((i for i in range(start, len(page)) if page.roles[i] is None), None)
    if first is None:
        return None
    candidate = first
    if _CHROME.fullmatch(page.lines[first]) and not _SECTION_OPENER.fullmatch(page.lines[first]):
        candidate = next((i for i in range(first + 1, len(page)) if page.lines[i]), first)
        if candidate == first or page.lines[candidate] not in page.lines[candidate + 1 :]:
            return None
    line = page.lines[candidate]
    repeated = line in page.lines[candidate + 1 :]
    next_blank = candidate + 1 >= len(page) or not page.lines[candidate + 1]
    if not _reads_like_title(line, next_blank=next_blank, repeated=repeated):
        return None
    page.roles[candidate] = TITLE
    return line


def _reads_like_title(line: str, *, next_blank: bool, repeated: bool) -> bool:
    if len(line) > _MAX_TITLE_CHARS or _CHROME.fullmatch(line) or _is_author_line(line):
        return False
    if repeated:
        return True
    headline = _headline_case(line) >= _HEADLINE_CASE
    if not next_blank:
        # Mirror pages run paragraphs together; only a headline-cased line stands apart.
        return headline and len(line.split()) >= 3 and not line.endswith(_SENTENCE_END)
    if line.endswith(("?", "!")):
        return headline or len(re.findall(r"[.!?] ", line)) == 0
    if line.endswith("."):
        return headline
    return not line.endswith(_SENTENCE_END)


def _headline_case(line: str) -> float:
    """Share of the words of four letters or more that start with a capital letter."""
    words = [word for word in line.split() if len(word) >= 4 and word[0].isalpha()]
    if not words:
        return 0.0
    return sum(word[0].isupper() for word in words) / len(words)


def _is_author_line(line: str) -> bool:
    return bool(_says_name(line) or _bullet_name(line))


def _says_name(line: str) -> str | None:
    if not line.endswith(("says", "says:")):
        return None
    match = _SAYS_LINE.fullmatch(line)
    if match is None or len(match["name"].split()) > _MAX_AUTHOR_WORDS + 2:
        return None
    return match["name"]


def _bullet_name(line: str) -> str | None:
    if not line.startswith("•"):
        return None
    match = _BULLET_LINE.fullmatch(line)
    if match is None:
        return None
    name = match["name"]
    if len(name.split()) > _MAX_AUTHOR_WORDS + 2 or name.endswith("."):
        return None
    return name


def _mark_chrome(page: _Page, title: str | None) -> None:
    """Mark site chrome, image captions (title repeats) and related-link lists."""
    in_related_links = False
    for index in page.open_lines(0, len(page)):
        line = page.lines[index]
        if in_related_links and _RELATED_LINK.fullmatch(line) and index not in page.says:
            page.roles[index] = CHROME
            continue
        in_related_links = bool(_RELATED_LINKS.fullmatch(line))
        if line == title or _CHROME.fullmatch(line):
            page.roles[index] = CHROME


def _comment_section_start(page: _Page, start: int) -> int | None:
    """Where the comment section begins: at the first widget or WordPress comment line, or
    at the first author line of a numbered or bullet thread."""
    openers = [
        i for i in page.chrome_lines(start, len(page)) if _SECTION_OPENER.fullmatch(page.lines[i])
    ]
    says = page.open_authors(page.says, start)
    bullets = page.open_authors(page.bullets, start)
    candidates = openers[:1]
    # One `says` line in the body may introduce a quote; a thread numbers it or has more.
    if len(says) >= 2 or (says and _NUMBERED.match(page.lines[says[0]])):
        candidates.append(says[0])
    if len([i for i in bullets if _followed_by_text(page, i)]) >= 2:
        candidates.append(bullets[0])
    return min(candidates, default=None)


def _followed_by_text(page: _Page, index: int) -> bool:
    following = next((i for i in range(index + 1, len(page)) if page.lines[i]), None)
    return following is not None and not _BULLET_LINE.fullmatch(page.lines[following])


def _comment_section(page: _Page, start: int) -> tuple[str, list[Comment], list[_Block]]:
    """Split the comment section that starts at `start`: (layout, comments, unsplit blocks)."""
    # A thread starts with an author line; one further down is a line of some comment's text.
    first = next(iter(page.open_lines(start, len(page))), None)
    if first in page.says:
        return "numbered", *_split_thread(
            page, start, page.open_authors(page.says, start), page.says
        )
    if first in page.bullets and _followed_by_text(page, first):
        bullets = page.open_authors(page.bullets, start)
        return "bullets", *_split_thread(page, start, bullets, page.bullets)
    blocks = page.blocks(start, len(page))
    if not blocks:
        widget = any(_WIDGET.fullmatch(page.lines[i]) for i in page.chrome_lines(start, len(page)))
        return ("wpdiscuz" if widget else "none"), [], []
    comments = _split_comments(blocks)
    before = page.chrome_lines(start, blocks[0].indices[0])
    widget = any(_WIDGET.fullmatch(page.lines[i]) for i in before)
    with_author = sum(comment.author is not None for comment in comments)
    # Under a WordPress header, author-line comments must show authors to be believed.
    if widget or with_author * 2 >= len(comments):
        return "wpdiscuz", comments, []
    return "unknown", [], blocks


def _without_cut_off_author(
    page: _Page, comments: list[Comment]
) -> tuple[list[Comment], list[_Block]]:
    """A crawl cut off right after an author line leaves that line last on the page with no
    text: it is kept as unsplit text, not as an empty comment or a paragraph of another one."""
    if not comments:
        return comments, []
    last = comments[-1]
    cut_off: list[_Block] = []
    authors = {comment.author for comment in comments} - {None}
    if last.paragraphs and last.paragraphs[-1] in authors and "\n" not in last.paragraphs[-1]:
        cut_off.append(page.line_block(last.text_lines[-1]))
        last = replace(last, paragraphs=last.paragraphs[:-1], text_lines=last.text_lines[:-1])
    if last.paragraphs:
        return [*comments[:-1], last], cut_off
    if last.author_line is not None:
        cut_off.insert(0, page.line_block(last.author_line))
    return comments[:-1], cut_off


def _split_thread(
    page: _Page, start: int, authors: list[int], names: dict[int, str]
) -> tuple[list[Comment], list[_Block]]:
    """Split a numbered or bullet thread: each author line opens a comment whose reply depth
    comes from its indentation (two spaces per level)."""
    indents = [page.indent(i) for i in authors]
    base = min(indents)
    steps = {indent - base for indent in indents} - {0}
    step = 4 if steps and all(s % 4 == 0 for s in steps) else 2

    comments: list[Comment] = []
    # The latest comment at each depth: a reply's parent is the latest one a level up.
    latest_at_depth: list[int] = []
    bounds = [*authors, len(page)]
    unsplit = page.blocks(start, authors[0])
    for author_index, end in zip(authors, bounds[1:], strict=True):
        depth = min((page.indent(author_index) - base + step // 2) // step, len(latest_at_depth))
        parent = latest_at_depth[depth - 1] if depth > 0 else None
        del latest_at_depth[depth:]
        latest_at_depth.append(len(comments))
        blocks = page.blocks(author_index + 1, end)
        comments.append(
            Comment(
                author=names[author_index],
                paragraphs=[block.text for block in blocks],
                depth=depth,
                parent=parent,
                author_line=author_index,
                text_lines=[index for block in blocks for index in block.indices],
            )
        )
    return comments, unsplit


def _author_score(block: _Block, recurring: set[str]) -> float | None:
    """How much `block` looks like a commenter's display name; None when it cannot be one."""
    line = block.lines[0]
    if len(block.lines) != 1 or len(line) > _MAX_AUTHOR_CHARS or _NOT_IN_NAMES.search(line):
        return None
    words = line.split()
    if len(words) > _MAX_AUTHOR_WORDS:
        return None
    score = 1.0
    if line in recurring:
        score += 3.0
    if line.endswith(_SENTENCE_END):
        score -= 2.0
    # Scripts without capital letters count as capitalised.
    initials = "".join([word[0] for word in words])
    if initials == initials.upper():
        score += 1.0
    if _DIGIT.search(line):
        score -= 0.5
    return score


def _split_off_comments(blocks: list[_Block]) -> tuple[list[_Block], list[Comment]]:
    """Split a page without comment chrome into body blocks and comments.

    Body paragraphs are one blank line apart; comments begin after a wider gap. The gap alone
    is not enough (a sub-heading looks the same), so the rest of the page must also read as
    comments: an author line that recurs on the page, or two or more comments.
    """
    recurring = _recurring_lines(blocks)
    for index in range(1, len(blocks)):
        if blocks[index].blanks_before < 2:
            continue
        comments = _split_comments(blocks[index:])
        opens_with_author = comments[0].author is not None
        authors = {comment.author for comment in comments} - {None}
        if (opens_with_author and (blocks[index].text in recurring or len(comments) >= 2)) or (
            not opens_with_author and authors & recurring
        ):
            return blocks[:index], comments
    return blocks, []


def _recurring_lines(blocks: list[_Block]) -> set[str]:
    counts = Counter(block.lines[0] for block in blocks if len(block.lines) == 1)
    return {line for line, count in counts.items() if count >= 2}


# Labels of comment-section blocks: an author line, the first paragraph after it, the start
# of a comment without an author, and a further paragraph of the current comment.
_AUTHOR, _TEXT, _START, _MORE = range(4)
_IMPOSSIBLE = float("-inf")
# A new author-less comment normally follows two or more blank lines, a further paragraph one.
_START_AFTER_ONE_BLANK = -3.0
_MORE_AFTER_BLANKS = -1.5
_START_ADDRESSING_AUTHOR = 4.0
_ADDRESS = re.compile(r"@?(?P<name>[^\W\d_][\w'-]*)[,:!] ")


def _split_comments(blocks: list[_Block]) -> list[Comment]:
    """Group comment-section blocks into comments.

    Blank-line counts alone do not decide which short line is an author: every labelling of
    the blocks is scored (author-likeness of the lines taken as authors, spacing) and the best
    one is kept (Viterbi over four labels). A trailing author line whose text was cut off by
    the crawl stays a comment with an empty body.
    """
    if not blocks:
        return []
    labels = _label_blocks(blocks)
    comments: list[Comment] = []
    for block, label in zip(blocks, labels, strict=True):
        if label == _AUTHOR:
            comments.append(Comment(author=block.text, author_line=block.indices[0]))
            continue
        if label == _START:
            comments.append(Comment(author=None))
        comments[-1].paragraphs.append(block.text)
        comments[-1].text_lines.extend(block.indices)
    return comments


def _label_blocks(blocks: list[_Block]) -> list[int]:
    recurring = _recurring_lines(blocks)
    count = len(blocks)
    author_scores = []
    for index, block in enumerate(blocks):
        followed = index + 1 < count and blocks[index + 1].blanks_before == 1
        score = _author_score(block, recurring) if followed else None
        author_scores.append(_IMPOSSIBLE if score is None else score)

    # A paragraph that opens by addressing the latest author (`Tariq, ...`) answers them: it
    # starts a new comment rather than continuing theirs.
    addresses_author = []
    latest_author: str | None = None
    for index, block in enumerate(blocks):
        first = block.lines[0]
        address = _ADDRESS.match(first) if latest_author and latest_author in first[:30] else None
        addresses_author.append(address is not None and address["name"] == latest_author)
        if author_scores[index] > 0:
            latest_author = first.split()[0]

    # Best score of a labelling of the blocks so far that ends in each label. AUTHOR, START
    # and MORE follow TEXT, START or MORE (the best of them, kept for the way back); TEXT
    # follows AUTHOR.
    scores = (author_scores[0], _IMPOSSIBLE, 0.0, _IMPOSSIBLE)
    best_before = [_TEXT]
    for index in range(1, count):
        previous = _best_end(scores)
        best = scores[previous]
        blanks = blocks[index].blanks_before
        scores = (
            best + author_scores[index],
            scores[_AUTHOR],
            best
            + (0.0 if blanks >= 2 else _START_AFTER_ONE_BLANK)
            + (_START_ADDRESSING_AUTHOR if addresses_author[index] else 0.0),
            best + (0.0 if blanks <= 1 else _MORE_AFTER_BLANKS),
        )
        best_before.append(previous)

    label = _best_end(scores)
    labels = [label]
    for index in range(count - 1, 0, -1):
        label = _AUTHOR if label == _TEXT else best_before[index]
        labels.append(label)
    labels.reverse()
    return labels


def _best_end(scores: tuple[float, float, float, float]) -> int:
    """The best of TEXT, START and MORE; ties go to the first of them."""
    text, start, more = scores[_TEXT], scores[_START], scores[_MORE]
    if text >= start and text >= more:
        return _TEXT
    return _START if start >= more else _MORE


def stable_id(*parts: object) -> str:
    """A short key that depends only on `parts`, the same in every run."""
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


@contextmanager
def worker_pool(workers: int) -> Iterator[Executor | None]:
    """Processes to parse on (parsing is pure Python: threads would share one core), or None
    for one worker. They are spawned, not forked, as the parent runs Prefect's threads, and
    only when a batch is large enough to use them."""
    if workers <= 1:
        yield None
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        yield pool


def parse_pages(
    pages: pl.DataFrame, pool: Executor | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse every page in `pages` (source_path, sha256, text), on the workers of `pool` when
    one is given.

    Returns (article, comment, rejects). Only a page with no text but its header and site
    chrome is rejected: text the parser cannot place is kept as the article's unsplit_text.
    """
    # The worker processes import this module only to parse: DuckDB and the schema stay out.
    from flows.schema import polars_schema

    rows = pages.select("source_path", "sha256", "text").rows()
    if pool is None or len(rows) < _MIN_PAGES_FOR_WORKERS:
        parts = [_parse_rows(rows)]
    else:
        size = -(-len(rows) // _CHUNKS_PER_BATCH)
        parts = list(pool.map(_parse_rows, [rows[i : i + size] for i in range(0, len(rows), size)]))
    article_schema = {k: v for k, v in polars_schema("article").items() if k != "loaded_by_run"}
    return (
        pl.DataFrame([row for part in parts for row in part[0]], schema=article_schema),
        pl.DataFrame([row for part in parts for row in part[1]], schema=polars_schema("comment")),
        pl.DataFrame(
            [row for part in parts for row in part[2]],
            schema={"source_path": pl.String(), "sha256": pl.String()},
        ),
    )


def _parse_rows(rows: list[tuple[str, str, str]]) -> tuple[list[dict], list[dict], list[dict]]:
    """Article, comment and reject rows of some pages (source_path, sha256, text)."""
    articles: list[dict] = []
    comments: list[dict] = []
    rejects: list[dict] = []
    for source_path, sha256, text in rows:
        parsed = parse_page(text)
        if (
            parsed.title is None
            and parsed.body is None
            and not parsed.comments
            and parsed.unsplit is None
        ):
            rejects.append({"source_path": source_path, "sha256": sha256})
            continue
        article_id = stable_id(source_path)
        articles.append(
            {
                "article_id": article_id,
                "source_path": source_path,
                "title": parsed.title,
                "body": parsed.body,
                "crawl_month": parsed.crawl_month,
                "layout": parsed.layout,
                "n_comments": len(parsed.comments),
                "sha256": sha256,
                "parser_version": PARSER_VERSION,
                "unsplit_text": parsed.unsplit,
                "parse_flags": ",".join(parsed.flags) or None,
                "parse_confidence": parsed.confidence,
            }
        )
        comments.extend(_comment_rows(article_id, parsed.comments))
    return articles, comments, rejects


def _comment_rows(article_id: str, comments: list[Comment]) -> list[dict]:
    # The same author can post the same words twice; the occurrence keeps their ids apart
    # while leaving ids unchanged when other comments are added around them.
    occurrences: dict[tuple[str | None, str], int] = {}
    ids: list[str] = []
    rows = []
    for position, comment in enumerate(comments, start=1):
        key = (comment.author, comment.body)
        occurrences[key] = occurrences.get(key, 0) + 1
        ids.append(stable_id(article_id, comment.author, comment.body, occurrences[key]))
        rows.append(
            {
                "comment_id": ids[-1],
                "article_id": article_id,
                "position": position,
                "author": comment.author,
                "depth": comment.depth,
                "parent_comment_id": None if comment.parent is None else ids[comment.parent],
                "body": comment.body,
            }
        )
    return rows


# Reasons an analyst should look at a page (ParsedPage.flags), each with the weight it puts on
# the parser's confidence. unsplit_text is weighed by the share of the text left unsplit.
REVIEW_FLAGS = {
    # Mirror pages show no headline; elsewhere a missed title has gone into the body.
    "no_title": 0.9,
    # Comment-only pages have no body; elsewhere the body went into comments or unsplit text.
    "no_body": 0.8,
    # Some text could be placed neither in the article nor in a comment (article.unsplit_text).
    "unsplit_text": 1.0,
    # A comment section was seen but not split into comments (layout unknown).
    "comment_section_unsplit": 0.8,
    # The page ends on an author line without text (a crawl cut short): kept as unsplit text.
    "cut_off_author": 0.95,
    # A comment with an author line and no text.
    "empty_comment": 0.8,
    # Most comments show no author: author lines may have been taken for comment text.
    "comments_without_author_majority": 0.7,
    # A body paragraph two or more blank lines after the one before: where comments without
    # chrome begin, so the comments may have stayed in the body.
    "wide_gap_in_body": 0.85,
}


# Roles of the lines that hold the page's own text, placed or not.
_TEXT_ROLES = frozenset((TITLE, BODY, AUTHOR, COMMENT, UNSPLIT))


def _review_flags(
    parsed: ParsedPage, lines: list[str], *, cut_off: bool = False
) -> tuple[tuple[str, ...], float]:
    """Why an analyst should look at `parsed`, and how sure the parser is of its split.

    The confidence is the share of the page's text (its characters outside the header and
    chrome) placed in the title, body or a comment, times the weight of every flag raised
    (REVIEW_FLAGS); a page with no such text has confidence 0.
    """
    comments = parsed.comments
    authorless = sum(comment.author is None for comment in comments)
    raised = {
        "no_title": parsed.title is None,
        "no_body": parsed.body is None,
        "unsplit_text": parsed.unsplit is not None,
        "comment_section_unsplit": parsed.layout == "unknown",
        "cut_off_author": cut_off,
        "empty_comment": any(not comment.paragraphs for comment in comments),
        "comments_without_author_majority": authorless * 2 > len(comments),
        "wide_gap_in_body": _wide_gap_in_body(parsed.roles),
    }
    flags = tuple(name for name in REVIEW_FLAGS if raised[name])
    pairs = list(zip(lines, parsed.roles, strict=True))
    text = sum(len(line) for line, role in pairs if role in _TEXT_ROLES)
    unsplit = sum(len(line) for line, role in pairs if role == UNSPLIT) if parsed.unsplit else 0
    if not text:
        return flags, 0.0
    confidence = 1 - unsplit / text
    for name in flags:
        confidence *= REVIEW_FLAGS[name]
    return flags, round(confidence, 3)


def _wide_gap_in_body(roles: list[str]) -> bool:
    blanks = 0
    seen_body = False
    for role in roles:
        if role == BODY:
            if seen_body and blanks >= 2:
                return True
            seen_body = True
        blanks = blanks + 1 if role == BLANK else 0
    return False
