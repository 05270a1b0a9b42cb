"""Split each page into an article (title, body) and its reader comments, without site chrome."""

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from flows.schema import polars_schema

PARSER_VERSION = "1"
# Comment layouts the parser tells apart: wpDiscuz author-line comments, numbered and bullet
# threads, no comment section, and a comment section it could not split into comments.
LAYOUTS = ("wpdiscuz", "numbered", "bullets", "none", "unknown")

_MONTH_NAMES = (
    "JANUARY FEBRUARY MARCH APRIL MAY JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER"
)
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(), start=1)}
_BANNER_LINE = re.compile(r"[\d,]+ \$")
_MONTH_LINE = re.compile(r"(?P<month>[A-Z]+) (?P<year>(19|20)\d\d)")

# Lines that belong to the site around the article, never to its text. The data-quality gate
# checks titles, bodies and comments against this same list.
ARTICLE_CHROME = (
    r"Support SouthFront",
    r"Click to see (?:the )?full-size (?:image|map)\.?",
    r"(?i:illustrative image)\b.*",
    r"(?i:file image)\.?",
    r"(?:IMAGE|FILE PHOTO):.*",
    r"Written by .*",
    r"South Front",
    r"PayPal:.*",
    r"Do you like this content\? Consider helping us!",
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
CHROME_LINES = ARTICLE_CHROME + WIDGET_CHROME
_ARTICLE_CHROME = re.compile("|".join(f"(?:{p})" for p in ARTICLE_CHROME))
_WIDGET_CHROME = re.compile("|".join(f"(?:{p})" for p in WIDGET_CHROME))

# A title is one line, not a paragraph of body text.
_MAX_TITLE_CHARS = 250
# Author lines are short display names.
_MAX_AUTHOR_CHARS = 60
_MAX_AUTHOR_WORDS = 6
_SENTENCE_END = tuple(".!?…:;,")


@dataclass
class Comment:
    author: str | None
    paragraphs: list[str] = field(default_factory=list)

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


@dataclass
class _Block:
    """A run of consecutive non-blank lines and the blank lines before it."""

    lines: list[str]
    blanks_before: int

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def parse_page(text: str) -> ParsedPage:
    """Parse one decoded page."""
    lines = [line.rstrip() for line in text.split("\n")]
    start, crawl_month = _skip_header(lines)
    title, start = _find_title(lines, start)
    widget = _first_widget_line(lines, start)
    body_end = widget if widget is not None else len(lines)
    body_blocks = _blocks(lines[start:body_end], title)

    if widget is not None:
        layout = "wpdiscuz"
        comments = _split_comments(_blocks(lines[widget:], title))
    else:
        body_blocks, comments = _split_off_comments(body_blocks)
        layout = "wpdiscuz" if comments else "none"

    body = "\n\n".join(block.text for block in body_blocks) or None
    return ParsedPage(title, body, crawl_month, layout, comments)


def _skip_header(lines: list[str]) -> tuple[int, date | None]:
    """Skip the donation banner and the month line; return where the page starts."""
    crawl_month = None
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        month = _MONTH_LINE.fullmatch(line)
        if not line or _BANNER_LINE.fullmatch(line):
            index += 1
        elif month and month["month"] in _MONTHS and crawl_month is None:
            crawl_month = date(int(month["year"]), _MONTHS[month["month"]], 1)
            index += 1
        else:
            break
    return index, crawl_month


def _find_title(lines: list[str], start: int) -> tuple[str | None, int]:
    """Take the first line as the title when it reads like one, not like body text."""
    if start >= len(lines):
        return None, start
    line = lines[start].strip()
    next_blank = start + 1 >= len(lines) or not lines[start + 1].strip()
    repeated = lines[start + 1 :].count(lines[start])
    looks_like_title = (
        len(line) <= _MAX_TITLE_CHARS
        and not _is_chrome(line)
        and (next_blank or repeated)
        and (not line.endswith(_SENTENCE_END) or repeated)
    )
    return (line, start + 1) if looks_like_title else (None, start)


def _first_widget_line(lines: list[str], start: int) -> int | None:
    for index in range(start, len(lines)):
        if _WIDGET_CHROME.fullmatch(lines[index].strip()):
            return index
    return None


def _is_chrome(line: str) -> bool:
    stripped = line.strip()
    return bool(_ARTICLE_CHROME.fullmatch(stripped) or _WIDGET_CHROME.fullmatch(stripped))


def _blocks(lines: list[str], title: str | None) -> list[_Block]:
    """Group content lines into blocks; chrome lines and title repeats (captions) are dropped
    and count as blank lines, so the spacing that separates comments survives them."""
    blocks: list[_Block] = []
    blanks = 0
    current: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped or _is_chrome(stripped) or stripped == title:
            if current:
                blocks.append(_Block(current, blanks))
                current, blanks = [], 0
            if not stripped:
                blanks += 1
            continue
        current.append(stripped)
    if current:
        blocks.append(_Block(current, blanks))
    return blocks


def _author_score(block: _Block, recurring: set[str]) -> float | None:
    """How much `block` looks like a commenter's display name; None when it cannot be one."""
    if len(block.lines) != 1:
        return None
    line = block.lines[0]
    words = line.split()
    if len(line) > _MAX_AUTHOR_CHARS or len(words) > _MAX_AUTHOR_WORDS:
        return None
    score = 1.0
    if line in recurring:
        score += 3.0
    if line.endswith(_SENTENCE_END):
        score -= 2.0
    if all(not word[0].isalpha() or word[0].isupper() for word in words):
        score += 1.0
    if any(char.isdigit() for char in line):
        score -= 0.5
    return score


def _split_off_comments(blocks: list[_Block]) -> tuple[list[_Block], list[Comment]]:
    """Split a page without widget chrome into body blocks and comments. Comments begin at
    the first block after two or more blank lines that reads as an author line followed by
    a comment.

    A sub-heading looks the same, so the split also needs the author to post again on the
    page, or the rest of the page to fall into two or more comments.
    """
    recurring = _recurring_lines(blocks)
    for index in range(1, len(blocks) - 1):
        score = _author_score(blocks[index], recurring)
        if not (
            blocks[index].blanks_before >= 2
            and blocks[index + 1].blanks_before == 1
            and score is not None
            and score > 0
        ):
            continue
        comments = _split_comments(blocks[index:])
        if blocks[index].text in recurring or len(comments) >= 2:
            return blocks[:index], comments
    return blocks, []


def _recurring_lines(blocks: list[_Block]) -> set[str]:
    seen: set[str] = set()
    recurring: set[str] = set()
    for block in blocks:
        if len(block.lines) == 1:
            line = block.lines[0]
            (recurring if line in seen else seen).add(line)
    return recurring


# Labels of comment-section blocks: an author line, the first paragraph after it, the start
# of a comment without an author, and a further paragraph of the current comment.
_AUTHOR, _TEXT, _START, _MORE = range(4)
_IMPOSSIBLE = float("-inf")
# A new author-less comment normally follows two or more blank lines, a further paragraph one.
_START_AFTER_ONE_BLANK = -3.0
_MORE_AFTER_BLANKS = -1.5


def _split_comments(blocks: list[_Block]) -> list[Comment]:
    """Group comment-section blocks into comments.

    Blank-line counts alone do not decide which short line is an author: every labelling of
    the blocks is scored (author-likeness of the lines taken as authors, spacing) and the best
    one is kept (Viterbi over four labels).
    """
    if not blocks:
        return []
    recurring = _recurring_lines(blocks)
    count = len(blocks)
    scores = [[_IMPOSSIBLE] * 4 for _ in range(count)]
    back = [[0] * 4 for _ in range(count)]

    def local(index: int, label: int) -> float:
        block = blocks[index]
        if label == _AUTHOR:
            author = _author_score(block, recurring)
            followed = index + 1 < count and blocks[index + 1].blanks_before == 1
            return author if author is not None and followed else _IMPOSSIBLE
        if label == _START:
            return 0.0 if index == 0 or block.blanks_before >= 2 else _START_AFTER_ONE_BLANK
        if label == _MORE:
            return 0.0 if block.blanks_before <= 1 else _MORE_AFTER_BLANKS
        return 0.0

    allowed_after = {
        _AUTHOR: (_TEXT,),
        _TEXT: (_AUTHOR, _START, _MORE),
        _START: (_AUTHOR, _START, _MORE),
        _MORE: (_AUTHOR, _START, _MORE),
    }
    local_scores = [[local(index, label) for label in range(4)] for index in range(count)]
    for label in (_AUTHOR, _START):
        scores[0][label] = local_scores[0][label]
    for index in range(1, count):
        for previous in range(4):
            if scores[index - 1][previous] == _IMPOSSIBLE:
                continue
            for label in allowed_after[previous]:
                total = scores[index - 1][previous] + local_scores[index][label]
                if total > scores[index][label]:
                    scores[index][label] = total
                    back[index][label] = previous

    label = max((_TEXT, _START, _MORE), key=lambda option: scores[-1][option])
    labels = [label]
    for index in range(count - 1, 0, -1):
        label = back[index][label]
        labels.append(label)
    labels.reverse()

    comments: list[Comment] = []
    for block, label in zip(blocks, labels, strict=True):
        if label == _AUTHOR:
            comments.append(Comment(author=block.text))
        elif label == _START:
            comments.append(Comment(author=None, paragraphs=[block.text]))
        else:
            comments[-1].paragraphs.append(block.text)
    return comments


def stable_id(*parts: object) -> str:
    """A short key that depends only on `parts`, the same in every run."""
    joined = "\x1f".join("" if part is None else str(part) for part in parts)
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def parse_pages(pages: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse every page in `pages` (source_path, sha256, text).

    Returns (article, comment, rejects): a page with no title, body or comment is rejected.
    """
    articles: list[dict] = []
    comments: list[dict] = []
    rejects: list[dict] = []
    for source_path, sha256, text in pages.select("source_path", "sha256", "text").iter_rows():
        parsed = parse_page(text)
        if parsed.title is None and parsed.body is None and not parsed.comments:
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
            }
        )
        comments.extend(_comment_rows(article_id, parsed.comments))
    article_schema = {k: v for k, v in polars_schema("article").items() if k != "loaded_by_run"}
    return (
        pl.DataFrame(articles, schema=article_schema),
        pl.DataFrame(comments, schema=polars_schema("comment")),
        pl.DataFrame(rejects, schema={"source_path": pl.String(), "sha256": pl.String()}),
    )


def _comment_rows(article_id: str, comments: list[Comment]) -> list[dict]:
    # The same author can post the same words twice; the occurrence keeps their ids apart
    # while leaving ids unchanged when other comments are added around them.
    occurrences: dict[tuple[str | None, str], int] = {}
    rows = []
    for position, comment in enumerate(comments, start=1):
        key = (comment.author, comment.body)
        occurrences[key] = occurrences.get(key, 0) + 1
        rows.append(
            {
                "comment_id": stable_id(article_id, comment.author, comment.body, occurrences[key]),
                "article_id": article_id,
                "position": position,
                "author": comment.author,
                "depth": 0,
                "parent_comment_id": None,
                "body": comment.body,
            }
        )
    return rows
