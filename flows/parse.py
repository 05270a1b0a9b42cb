"""Split each page into an article (title, body) and its reader comments, without site chrome."""

import functools
import gc
import hashlib
import itertools
import multiprocessing
import re
import threading
import unicodedata
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from flows import line_model
from flows.line_features import AUTHOR as L_AUTHOR
from flows.line_features import BODY as L_BODY
from flows.line_features import CHROME as L_CHROME
from flows.line_features import CUE_WORDS, LINES_SCHEMA, line_attribute_ids, line_features
from flows.line_features import MORE as L_MORE
from flows.line_features import START as L_START
from flows.line_features import TITLE as L_TITLE
from flows.timebox import OverBudgetError, time_budget

PARSER_VERSION = "13"
# The line labeller, trained by `python -m flows.train_parser` on labelled pages.
MODEL_PATH = Path(__file__).resolve().parent / "reference" / "line_model.crfsuite"
# Comment layouts the parser tells apart: wpDiscuz author-line comments, numbered and bullet
# threads, comments of other sites (forums, time-stamped author lines), no comment section,
# and a comment section it could not split into comments.
LAYOUTS = ("wpdiscuz", "numbered", "bullets", "other", "none", "unknown")

_MONTH_NAMES = (
    "JANUARY FEBRUARY MARCH APRIL MAY JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER"
)
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES.split(), start=1)}
_BANNER_LINE = re.compile(r"\d[\d,.]* ?\$")
_MONTH_LINE = re.compile(r"(?P<month>[A-Z]+) (?P<year>(19|20)\d\d)")

# Lines that belong to the site around the article, never to its text. The data-quality gate
# checks titles, bodies and comments against this same list, with polars' regular expressions.
# They end a word without `\b`: polars' engine reads a text that is not all ASCII ten times
# slower when a pattern holds a Unicode `\b` (the gate's 0.13 s for 2,000 bodies became
# 0.017 s). `word(?:[^\w\n].*)?` stands for `word\b.*`, and in the donation addresses
# `(?:[^\w:.!?][^:.!?]{0,39})?` for `\b[^:.!?]{0,40}`.
ARTICLE_CHROME = (
    r"Support SouthFront",
    r"Click to see (?:the )?full[- ]size (?:image|map|photo)\.?",
    r"(?i:illustrative image)\.?(?:,? (?i:source)(?:[^\w\n].*)?)?",
    r"(?i:file (?:image|photo))\.?",
    r"(?:IMAGE|FILE PHOTO):.*",
    r"Written by(?: \S+){1,6}",
    r"South Front",
    r"PayPal:.*",
    # Donation addresses: `BITCOIN (BTC): 1abc...`, `PAYPAL, ... : mail@...`.
    r"(?i:paypal|bitcoin|btc|ethereum|eth|litecoin|ltc|monero|xmr)"
    r"(?:[^\w:.!?][^:.!?]{0,39})?: ?(?:\S+|.*@.*)",
    r"Do you like this content\? Consider helping us!",
    # SouthFront's donation appeal: `If you're able, and if you like our content and
    # approach, please support the project. ... PayPal: ...`.
    r"If you['\u2019]\S+ \S+, and if you like our content and \S+, please support(?:[^\w\n].*)?",
    r"More on this topic:",
    # Bylines, credits and share buttons of other sites (LAYOUTS.md, section 6).
    r"By (?:[A-Z][\w.'-]*(?: |$)){1,4}(?:(?:and|&) (?:[A-Z][\w.'-]*(?: |$)){1,4})?",
    # A space or the line's end follows `on`, `in` or `by`: a word boundary already.
    r"Posted (?:on|in|by)(?: \S+){0,10}",
    r"Source: \S+(?: \S+){0,5}",
    r"Share (?:it|this)(?: (?:article|story|post))?:?",
    r"Read more (?:at|on) [^.!?]{1,60}",
    r"Loading(?: \w+)? [Cc]omments ?(?:\.\.\.|\u2026)?",
)
# wpDiscuz comment-widget strings: the first one seen opens the comment section.
WIDGET_CHROME = (
    r"Notify of",
    r"Newest Most Voted",
    r"Oldest Newest Most Voted",
    r"Inline Feedbacks",
    r"View all comments",
    r"Load More Comments",
    # Its placeholder ends in the widget's close button, `x` or another glyph.
    r"Would love your thoughts, please comment\.\S?",
    # The comment count bubble, empty.
    r"\(\)",
    # The sort links of older wpDiscuz versions (`Sort by: newest | oldest | most voted`).
    r"\S+ by: +newest \| oldest \| most voted",
)
# WordPress and other comment-section headers: comments follow them.
COMMENT_SECTION_HEADERS = (
    r"(?:\d+|One|No) (?i:thoughts?|comments?|responses?|replies)(?: (?:on|to) .+)?",
    r"(?:(?i:readers?'?|users?|visitors?) )?(?i:comments?|responses?|replies) ?\(\d+\)",
    r"(?i:readers?'?|users?|visitors?) (?i:comments|responses)",
)
# Reply forms and closers: they end the comment section, or stand where there is none.
REPLY_FORM_CHROME = (
    r"Comments are closed\.?",
    r"Leave a (?:Reply|Comment)(?: to .+)?(?: Cancel reply)?",
    r"Your email address will not be published\..*",
    r"You must be logged in to post a comment\.?",
    # Closers of a comment section that has no comments yet.
    r"Be the first to comment(?: (?:on|at) [\"\u201c].*[\"\u201d])?\.?",
    r"(?:There are )?[Nn]o comments yet\.?",
    # The community guidelines of the OpenWeb comment widget (Yahoo and its partners), and
    # Yahoo's notice where it has switched comments off. Words a site may change are \S+.
    r"This is a \S+ Place for Public \S+",
    r"Please \S+ this \S+ with the same \S+ you would a public \S+\..*",
    r"These are not hard and \S+ \S+, .*",
    r"Help us make this a great place for \S+ by always .*",
    r"The \S+ (?:\S+ )?here \S+ to us, and we want you to \S+ as if they \S+ to you, too\..*",
    r"Our \S+ is to \S+ a \S+ and \S+ place for \S+ to \S+ over \S+ and \S+\..*",
)
COMMENT_SECTION_CHROME = COMMENT_SECTION_HEADERS + REPLY_FORM_CHROME
CHROME_LINES = ARTICLE_CHROME + WIDGET_CHROME + COMMENT_SECTION_CHROME


def _any_of(patterns: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{pattern})" for pattern in patterns))


# A line that is only a date or time: a post's or comment's time stamp, never its text.
TIMESTAMP = (
    r"(?:(?i:mon|tue|wed|thu|fri|sat|sun)[a-z]*,? )?"
    r"(?:\d{1,2}(?:st|nd|rd|th)? (?i:[a-z]{3,9})\.?,? \d{4}"
    r"|(?i:[a-z]{3,9})\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4}"
    r"|\d{1,4}[./-]\d{1,2}[./-]\d{1,4})"
    r"(?:,? (?:at |- |\u2013 )?\d{1,2}[:.]\d\d(?: ?(?i:am|pm))?)?"
    r"|\d+ (?i:seconds?|minutes?|hours?|days?|weeks?|months?|years?) ago"
)
_CHROME_KINDS = (
    ("date", re.compile(TIMESTAMP)),
    ("widget", _any_of(WIDGET_CHROME)),
    ("section", _any_of(COMMENT_SECTION_HEADERS)),
    ("form", _any_of(REPLY_FORM_CHROME)),
    ("article", _any_of(ARTICLE_CHROME)),
)
# Any of them: one test rules out most lines (a page's lines are mostly not chrome) before
# the tests of each kind.
_ANY_CHROME = _any_of(tuple(pattern.pattern for _, pattern in _CHROME_KINDS))
# The number of comments a comment-section header counts.
_COMMENT_COUNT = re.compile(r"^(?:(\d+)|No) |\((\d+)\)$")
# A comment-section header that names the post it is under, in quotes (`14 thoughts on
# "Title"`; not a forum's `1930 replies to this topic`).
_NAMED_SECTION = re.compile(
    r"(?:\d+|One) (?i:thoughts?|comments?|responses?|replies) (?:on|to) [\"\u201c\u00ab].+"
)
# A line of the comment widget or a comment-section header or closer.
SECTION_LINE = _any_of(WIDGET_CHROME + COMMENT_SECTION_CHROME)
_RELATED_LINKS = "More on this topic:"
# A flattened comment header: its fields, and the button the comment's text is glued to.
_FIELD_SEPARATOR = re.compile(r"\s+\|\s+")
_BUTTON_THEN_TEXT = re.compile(r"(?i:reply|delete|report|flag|like|share)\s+(?P<text>\S.*)")
_MIN_GLUED_WORDS = 3
_RELATED_LINK = re.compile(r"\d{1,3}[.)] \S.*")
# An item of a numbered list in the article (`3. `, `3) `, `3: `), and the fewest items of one.
_LIST_ITEM = re.compile(r"(\d{1,3})[.):] +\S")
_MIN_LIST_ITEMS = 3
# Numbered-thread author lines (`1. Alice says:`); the number and the colon are optional.
_SAYS_LINE = re.compile(r"(?:(?P<number>\d{1,4})[.)] +)?(?P<name>\S.{0,59}?) +says:?")
_NUMBERED = re.compile(r"\d{1,4}[.)] ")
_SAYS = ("says", "says:")
# The number or bullet that opens a comment of a thread (`2. `, `• `).
_BULLETS = ("• ", "▪ ")
_THREAD_MARKER = re.compile(r"^(?:\d{1,4}[.)]|[•▪]) +")
# What sites put around a commenter's name: an avatar's alt text, a post number, the time.
_AUTHOR_DECORATION = re.compile(
    r"^(?:(?i:avatar)\s+|#\d+\s+)"
    r"|\s+(?:,\s+.*)?\(?\d{1,2}[./]\d{1,2}[./]\d{2,4}\)?\s*$"
    r"|\s+[|·]\s.*$"
)
_DIGIT = re.compile(r"\d")
_LINK = re.compile(r"\S+://\S*|\bwww\.\S*")
# An author line that ends in the comment's date (talkbacks): `Dana ,   Haifa   (09.14.21)`.
_DATED_AUTHOR = re.compile(
    r"[^\s,()|][^,()|]{0,39}(?:\s*,\s+[^,()|]{1,40}?)?\s+\(\d{1,2}[./]\d{1,2}[./]\d{2,4}\)"
)
_CHROME_SEPARATOR = re.compile(r"\s[|·•]\s")
# Forum post headers: `#2 — posted by Kirsten on 14.05.2024, 08:03`.
_POSTED_BY = re.compile(
    r"(?:#\d+\s*[\u2014\u2013-]\s*)?(?i:posted by)\s+(?P<name>.+?)(?:\s+on\s+.*\d.*)?"
)
# Forum posts (Invision boards and the like): a header with the post's number and the
# poster's name (`#1041 Name`), the poster's title and details, the post's time stamp
# (`Posted 28 September 2020 - 08:37 AM`), then the post.
_FORUM_HEADER = re.compile(r"#\d+ +\S.{0,59}")
_FORUM_POSTED = re.compile(f"(?i:posted:?)(?: on)? (?:{TIMESTAMP})")
# ` date 2020-02-25 ` glued by a crawler before the first line.
_CRAWLER_PREFIX = re.compile(r"^\w{2,12} (?:19|20)\d\d-\d\d-\d\d\s+(?=\S)")
# Zero-width characters, which str.strip() keeps: a line of only these is blank.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
# Stripped from both ends of a line in one pass: a line of spaces and invisible characters in
# any mix is blank (str.strip() alone leaves a U+FEFF between two spaces).
_SPACE_OR_INVISIBLE = _INVISIBLE + "".join(c for c in map(chr, range(0x3001)) if c.isspace())
_LEADING_SPACE = re.compile(r"[ \t\u00a0]+")
_QUOTES = str.maketrans("\u2019\u2018\u201c\u201d\u00b4`", "''\"\"''")

# Below this many pages a batch is parsed in the calling process; above, in chunks on the
# workers (several per worker, so a slow chunk does not leave the others idle).
_MIN_PAGES_FOR_WORKERS = 64
_CHUNKS_PER_BATCH = 8
# Seconds a batch of pages may take per page, beyond one page's timeout, before its pages are
# parsed one by one on their own budgets: pages take milliseconds, a runaway one minutes.
_BUDGET_PER_PAGE = 0.5
# The pages parse_pages sets aside, and why: no_text or parse_timeout.
REJECT_SCHEMA = pl.Schema(
    {
        "source": pl.String(),
        "source_path": pl.String(),
        "sha256": pl.String(),
        "reason": pl.String(),
    }
)

_MAX_AUTHOR_WORDS = 6
_MAX_NAME_CHARS = 40
# The longest author line: a name with its decoration (`#1 — posted by Ann on 14.05.2024,
# 07:12`, `Dana ,   Haifa   (09.14.21)`; the longest labelled is 49 characters).
_MAX_AUTHOR_LINE_CHARS = 80
# The longest first line taken for a headline when the labeller saw none.
_MAX_TITLE_CHARS = 120
# The most words of a caption-like line atop the body (longer lines are the body's).
_MAX_CAPTION_WORDS = 15
# A photo caption's closing credit: agency or photographer, with a slash or the word photo.
_PHOTO_CREDIT = re.compile(r"\((?:[^()]*/[^()]*|[^()]*\b(?i:photo)\b[^()]*)\)\s*$")
_SENTENCE_END = tuple('.!?…"”')
# One sentence ending and another beginning: three small letters (not an abbreviation such
# as `U.S. Forces`), a full stop, a space and a capital.
_SENTENCE_BREAK = re.compile(r"[a-z]{3}[.!?] [A-Z]")
# A line of this many words that ends a sentence is prose: kept as unsplit text when the
# labeller calls it chrome, never dropped.
_PROSE_WORDS = 6
# The fewest words of a sentence taken for the body of a page that shows no other.
_MIN_SENTENCE_WORDS = 3
# The longest line taken for a first comment shown above the comment thread (see
# _with_short_first_comment_above_the_thread).
_MAX_SHORT_COMMENT_CHARS = 120
# A line labelled with less certainty than this is worth a look.
_UNCERTAIN = 0.6
# Readers' talk, not a report: a writer or reader in the first or second person (`I`, `you`;
# not `US`), a question or exclamation, a trailing-off ellipsis, a spoken contraction.
_TALK = re.compile(
    r"\b(?:I|[Mm]e|[Mm]y|[Ww]e|us|[Oo]ur|[Yy]ou|[Yy]our)\b|[?!]|\.\.|\u2026"
    r"|\w(?:n['\u2019]t|['\u2019](?:m|re|ll|ve))\b"
)
# Quoted speech: talk inside it is the article's.
_QUOTED = re.compile('["\u201c\u201d\u00ab]')
# The fewest bare lines (no author line, no chrome) under a brief or a blog post taken for
# its readers' comments.
_MIN_BARE_COMMENTS = 2
# A paragraph's first word in small letters only (not `eBay`, `iPhone`).
_LOWER_WORD = re.compile(r"[a-z]+(?:['\u2019][a-z]+)?\b(?![-\w])")
# The fewest body paragraphs above the first comment written in small letters.
_MIN_BODY_ABOVE_CASUAL = 2

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
    # Text the parser could not place with confidence: kept, never dropped.
    unsplit: str | None = None
    # The role of each input line (see BLANK ... UNSPLIT), so no line goes unaccounted for.
    roles: list[str] = field(default_factory=list)
    # How sure the line labeller was of its least certain line (0..1).
    confidence: float = 1.0
    # Reasons an analyst may want to look at this page (see REVIEW_FLAGS).
    flags: tuple[str, ...] = ()


class _Page:
    """The lines of one page and the role given to each so far."""

    def __init__(self, text: str) -> None:
        self.raw = text.split("\n")
        self.lines = [line.strip(_SPACE_OR_INVISIBLE) for line in self.raw]
        self.roles: list[str | None] = [None if line else BLANK for line in self.lines]
        self.crawl_month: date | None = None
        # Comment lines that open with their widget's header (`Name | 7 years ago | Reply `),
        # cut off the line: the commenter's name, or None where the header shows none.
        self.glued_authors: dict[int, str | None] = {}

    def __len__(self) -> int:
        return len(self.lines)

    def indent(self, index: int) -> int:
        leading = _LEADING_SPACE.match(self.raw[index])
        return len(leading.group().expandtabs(4)) if leading else 0

    def content(self) -> list[int]:
        """Indices of the non-blank lines."""
        return [index for index, line in enumerate(self.lines) if line]


def parse_page(text: str) -> ParsedPage:
    """Parse one decoded page."""
    return parse_texts([text])[0]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: a parse holds millions of live strings and lists
    (two dozen attributes per line) that reference counting frees, and the collector's full
    passes over them took about a fifth of the parse. Nothing a parse builds refers to itself."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@_no_cycle_collection()
def parse_texts(texts: list[str]) -> list[ParsedPage]:
    """Parse decoded pages: label every line (the features of all pages at once), then read
    each article and its comments off the labels."""
    prepared = [prepared_page(text) for text in texts]
    labelled = _labelled(prepared)
    return [
        _read_page(page, known, content, tagging)
        for (page, known), (content, tagging) in zip(prepared, labelled, strict=True)
    ]


def _read_page(
    page: _Page, known: dict[int, str], content: list[int], tagging: line_model.Tagging
) -> ParsedPage:
    labels, certainty = _label_lines(page, known, content, tagging)
    title = _take_title(page, labels)
    comments = _read_comments(page, labels)
    for index, label in labels.items():
        if page.roles[index] is not None:
            continue
        if label == L_BODY:
            page.roles[index] = BODY
        elif label == L_CHROME:
            page.roles[index] = UNSPLIT if reads_like_prose(page.lines[index]) else CHROME
    unsplit = _text_of(page, UNSPLIT)
    body = _text_of(page, BODY)
    return ParsedPage(
        title=title,
        body=body,
        crawl_month=page.crawl_month,
        layout=_layout(page, comments, known),
        comments=comments,
        unsplit=unsplit,
        roles=[role or BODY for role in page.roles],
        confidence=round(min(certainty, default=1.0), 3),
        flags=_review_flags(page, title, body, comments, certainty),
    )


def prepared_page(text: str) -> tuple[_Page, dict[int, str]]:
    """The page with its header and known chrome marked: what the labeller starts from."""
    page = _Page(text)
    start, page.crawl_month = _mark_header(page)
    _strip_crawler_prefix(page, start)
    known = _known_chrome(page)
    _cut_glued_comment_headers(page, known)
    return page, known


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


def _strip_crawler_prefix(page: _Page, start: int) -> None:
    """Some crawlers glue ` date 2020-02-25 ` before the first line of the page."""
    first = next((i for i in range(start, len(page)) if page.lines[i]), None)
    if first is not None:
        page.lines[first] = _CRAWLER_PREFIX.sub("", page.lines[first], count=1)


def _cut_glued_comment_headers(page: _Page, known: dict[int, str]) -> None:
    """Crawlers flatten some comment widgets into one line: the header's fields (name, time,
    counts, buttons) joined by ` | `, the comment's text glued to the last button
    (`Ann Lee | 7 years ago | Reply Good point.`). Such a line keeps the text alone."""
    for index, line in enumerate(page.lines):
        if index in known or " | " not in line:
            continue
        *header, last = _FIELD_SEPARATOR.split(line)
        button = _BUTTON_THEN_TEXT.fullmatch(last)
        if len(header) < 2 or button is None or len(button["text"].split()) < _MIN_GLUED_WORDS:
            continue
        name = None if looks_like_chrome(header[0]) else header.pop(0)
        if (name is None or _name_like(name)) and all(map(looks_like_chrome, header)):
            page.glued_authors[index] = name
            page.lines[index] = button["text"]


def _known_chrome(page: _Page) -> dict[int, str]:
    """Lines that the known chrome patterns name, by kind; they are chrome whatever the
    labeller says (the data-quality gate checks texts against the same patterns)."""
    known: dict[int, str] = {}
    in_related_links = False
    for index, line in enumerate(page.lines):
        if page.roles[index] == HEADER:
            known[index] = "header"
            continue
        if not line:
            continue
        if in_related_links and _RELATED_LINK.fullmatch(line):
            known[index] = "related"
            continue
        in_related_links = line == _RELATED_LINKS
        if not _ANY_CHROME.fullmatch(line):
            continue
        for kind, pattern in _CHROME_KINDS:
            if pattern.fullmatch(line):
                known[index] = kind
                break
    for index, kind in known.items():
        if kind != "header":
            page.roles[index] = CHROME
    return known


def _label_lines(
    page: _Page, known: dict[int, str], content: list[int], tagging: line_model.Tagging
) -> tuple[dict[int, str], list[float]]:
    """The labels of every non-blank line, the labeller's as the rules allow, and how sure
    the labeller was of each."""
    if not content:
        return {}, []
    predicted = list(tagging.labels)
    ruled = _allowed_by_rules(page, known, content)
    decided = []
    for position, index in enumerate(content):
        allowed = ruled.get(index, ())
        if allowed and predicted[position] not in allowed:
            line = page.lines[index]
            gap = index - content[position - 1] if position else len(page)
            predicted[position] = _allowed_label(tagging, predicted, position, allowed, line, gap)
        if index in known or len(allowed) == 1:
            decided.append(position)
    # Lines a rule decides (known chrome, thread authors) are as sure as the rule.
    sure = tagging.marginals_of(predicted)
    sure[decided] = 1.0
    certainty = sure.tolist()
    labels = dict(zip(content, predicted, strict=True))
    for index in known:
        labels[index] = L_CHROME
    labels = _without_invented_comments(labels, known, page)
    labels = _with_body_under_title(labels, known, page)
    labels = _with_comment_below_a_wide_gap_in_the_body(labels)
    labels = _with_short_first_comment_above_the_thread(labels, known, page)
    labels = _with_comment_per_wide_gap(labels)
    labels = _with_comment_under_each_stamp(labels, known, page)
    labels = _with_article_above_marked_thread(labels, page)
    labels = _with_numbered_list_in_body(labels, known, page)
    labels = _without_comments_atop_the_body(labels, known, page)
    labels = _with_title_above_body(labels, known, page)
    labels = _without_caption_atop_body(labels, page)
    labels = _with_text_under_each_author(labels, known, page)
    labels = _without_comments_under_a_zero_count(labels, known, page)
    labels = _with_author_right_under_the_widget(labels, known, page)
    labels = _with_forum_posts(labels, known, page)
    labels = _with_talk_under_a_brief(labels, known, page)
    labels = _with_lower_case_comments_under_the_body(labels, page)
    labels = _with_cut_off_last_line(labels, known, page)
    labels.update(dict.fromkeys(page.glued_authors, L_START))
    return labels, certainty


def _allowed_label(
    tagging: line_model.Tagging,
    predicted: list[str],
    position: int,
    allowed: tuple[str, ...],
    line: str,
    gap: int,
) -> str:
    """The label of a line, among those a rule allows, when the labeller gave it another
    (`gap`: how many lines below the line before it the line is)."""
    label = predicted[position]
    above = next((above for above in reversed(predicted[:position]) if above != L_CHROME), None)
    under_author = position > 0 and predicted[position - 1] == L_AUTHOR and gap <= 2
    if label == L_BODY and L_MORE in allowed and (above in (L_START, L_MORE) or under_author):
        # Prose the labeller took for the article's, inside the thread: more of the comment
        # above (a quoted article), or the text of the author line right above it, not a
        # comment of its own.
        return L_MORE
    if label == L_AUTHOR and L_MORE in allowed and above in (L_START, L_MORE) and gap <= 2:
        # No author line can stand here (too long for one), one blank line under comment
        # text: more of it (a comment's paragraphs are set apart by one blank line, comments
        # by more).
        return L_MORE
    if label == L_CHROME and L_AUTHOR in allowed and _name_like(line):
        # A name in the thread that the labeller took for chrome: a commenter's.
        return L_AUTHOR
    return max(allowed, key=lambda label: tagging.marginal(label, position))


def _with_comment_per_wide_gap(labels: dict[int, str]) -> dict[int, str]:
    """Comment text below two or more blank lines opens a new comment: comment widgets set
    comments apart by a wider gap than the paragraphs within one (an author line and its
    text aside)."""
    order = sorted(labels)
    text = (L_START, L_MORE)
    for above, index in itertools.pairwise(order):
        if labels[index] == L_MORE and labels[above] in text and index - above > 2:
            labels[index] = L_START
    return labels


def _with_comment_below_a_wide_gap_in_the_body(labels: dict[int, str]) -> dict[int, str]:
    """The body's last lines are a comment when more blank lines than between the body's
    paragraphs (and more than one) set them apart and comments follow them: the first
    comment of a page without comment chrome, which nothing else announces."""
    order = sorted(labels)
    # Line distances between adjacent body lines: 2 is one blank line between.
    distances = [
        (below - above, position)
        for position, (above, below) in enumerate(itertools.pairwise(order), start=1)
        if labels[above] == labels[below] == L_BODY
    ]
    if len(distances) < 2:
        return labels
    usual = sorted(distance for distance, _ in distances)[len(distances) // 2]
    wide = [position for distance, position in distances if distance > max(usual, 2)]
    if not wide:
        return labels
    tail = list(itertools.takewhile(lambda index: labels[index] == L_BODY, order[wide[-1] :]))
    below = [labels[index] for index in order if index > tail[-1] and labels[index] != L_CHROME]
    if below[:1] not in ([L_AUTHOR], [L_START]):
        return labels
    for index in tail:
        labels[index] = L_START if index == tail[0] else L_MORE
    return labels


def _with_short_first_comment_above_the_thread(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """Where comments with author lines follow the body with no comment chrome between, the
    body's last lines are the first comment when they are short beside its longest paragraph:
    pages without comment chrome often show their first comment without an author line. A
    name-like line among them is the author of the text below it."""
    order = sorted(labels)
    opener = next((i for i in order if labels[i] in (L_AUTHOR, L_START)), None)
    if opener is None or L_AUTHOR not in (labels[i] for i in order if i >= opener):
        return labels
    above = [i for i in order if i < opener]
    if any(known.get(i) in ("widget", "section") for i in above):
        return labels
    longest = max((len(page.lines[i]) for i in above if labels[i] == L_BODY), default=0)
    tail: list[int] = []
    for index in reversed(above):
        line = page.lines[index]
        short_text = labels[index] == L_BODY and len(line) <= min(
            _MAX_SHORT_COMMENT_CHARS, longest // 3
        )
        if index in known or not (short_text or labels[index] == L_CHROME):
            break
        tail.insert(0, index)
    has_text = any(labels[i] == L_BODY for i in tail)
    if not has_text or not any(labels[i] == L_BODY for i in above if i < tail[0]):
        return labels
    authors = [i for i in tail if labels[i] == L_CHROME and _name_like(page.lines[i])]
    if labels[opener] != L_AUTHOR and not authors:
        # The thread opens with a comment without author line: that one is the first.
        return labels
    relabelled = dict(labels)
    previous = None
    for index in tail:
        if labels[index] == L_BODY:
            relabelled[index] = L_MORE if previous in (L_AUTHOR, L_START, L_MORE) else L_START
        elif index in authors:
            relabelled[index] = L_AUTHOR
        previous = relabelled[index]
    return relabelled


def _with_numbered_list_in_body(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """A list numbered 1, 2, 3 and on (`1. `, `2) `, `3: `), one line per item, that goes on
    from the body above any comment is the body's, whatever the labeller made of its short
    items. A talkback's numbered titles have author lines under them, and the list of
    related links a header above it."""
    order = sorted(labels)
    first_comment = next((i for i in order if labels[i] in (L_AUTHOR, L_START)), len(page))
    items: list[int] = []
    for index in order:
        if index >= first_comment:
            break
        if index in known:
            continue
        number = _LIST_ITEM.match(page.lines[index])
        if number and int(number[1]) == len(items) + 1 and (not items or index - items[-1] <= 2):
            items.append(index)
        elif number and number[1] == "1":
            items = [index]
        elif len(items) >= _MIN_LIST_ITEMS:
            break
        else:
            items = []
    if len(items) < _MIN_LIST_ITEMS:
        return labels
    above = [i for i in order if i < items[0] and labels[i] != L_CHROME]
    if above and labels[above[-1]] == L_BODY:
        labels.update(dict.fromkeys(items, L_BODY))
    return labels


def _without_comments_atop_the_body(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """Comments follow the article: what the labeller took for a comment above all of the
    body, with more of the body below it than it has lines, and no comment chrome above it,
    is the body's opening (a blog post's first lines under a name-like title)."""
    order = sorted(labels)
    body = [i for i in order if labels[i] == L_BODY]
    if not body:
        return labels
    lead = [i for i in order if i < body[0] and labels[i] in (L_AUTHOR, L_START, L_MORE)]
    sections = [i for i, kind in known.items() if kind in ("widget", "section") and i < body[0]]
    if not lead or sections or len(body) <= len(lead):
        return labels
    for index in lead:
        labels[index] = L_CHROME if labels[index] == L_AUTHOR else L_BODY
    return labels


def _with_cut_off_last_line(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """A crawl cut off mid-paragraph ends in the first words of it (`The US-back`): a last
    line of a few words that ends no sentence, right under the body or a comment, goes on
    with it. The labeller, seeing a short line at the page's end, takes it for chrome."""
    if not labels:
        return labels
    order = sorted(labels)
    last = order[-1]
    line = page.lines[last]
    if (
        len(order) < 2
        or labels[last] != L_CHROME
        or last in known
        or len(line.split()) < 2
        or line.endswith((*_SENTENCE_END, ":"))
        or looks_like_chrome(line)
    ):
        return labels
    above = order[-2]
    if last - above <= 2 and labels[above] == L_BODY:
        labels[last] = L_BODY
    elif last - above <= 2 and labels[above] in (L_START, L_MORE):
        labels[last] = L_MORE
    return labels


def _with_author_right_under_the_widget(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """wpDiscuz puts the first comment's author line right under its widget (`View all
    comments`), and a comment without one below a blank line (LAYOUTS.md, 3a): a short line
    there that ends no sentence, with text under it after one blank line, is an author line,
    however much it reads like words (`You can call me Da`)."""
    comment = (L_START, L_MORE)
    for index in sorted(labels):
        line = page.lines[index]
        if (
            known.get(index - 1) == "widget"
            and index not in known
            and labels[index] in comment
            and labels.get(index + 2) in comment
            and not page.lines[index + 1]
            and len(line) <= _MAX_NAME_CHARS
            and len(line.split()) <= _MAX_AUTHOR_WORDS
            and not line.endswith(_SENTENCE_END)
        ):
            labels[index] = L_AUTHOR
            labels[index + 2] = L_MORE
    return labels


def _with_forum_posts(labels: dict[int, str], known: dict[int, str], page: _Page) -> dict[int, str]:
    """A forum post is its header's (`#1041 Name`): the lines between the header and the
    post's `Posted <date>` line are the poster's title and details (chrome), and the lines
    from there to the next header are the post, but for the bullets that close it (`• Name
    likes this`)."""
    order = sorted(labels)
    headers = [i for i in order if _FORUM_HEADER.fullmatch(page.lines[i])]
    stamps = [i for i in order if _FORUM_POSTED.fullmatch(page.lines[i])]
    if not headers or not stamps:
        return labels
    for header, end in zip(headers, [*headers[1:], len(page)], strict=True):
        stamp = next((i for i in stamps if header < i < end), None)
        if stamp is None:
            continue
        post = [i for i in order if stamp < i < end and i not in known]
        while post and page.lines[post[-1]].startswith(_BULLETS):
            labels[post.pop()] = L_CHROME
        if not post:
            continue
        labels[header] = L_AUTHOR
        labels.update({i: L_CHROME for i in order if header < i <= stamp})
        labels.update(dict.fromkeys(post, L_MORE))
    return labels


def _with_lower_case_comments_under_the_body(labels: dict[int, str], page: _Page) -> dict[int, str]:
    """Blogs without a comment widget: under a body of paragraphs set apart by blank lines,
    a paragraph that opens in small letters (`also there are ...`), below one that ends a
    sentence, starts the readers' comments, which reporters never write so; it and each
    paragraph below it is a comment of its own."""
    order = sorted(labels)
    if any(label in (L_AUTHOR, L_START, L_MORE) for label in labels.values()):
        return labels
    body = [i for i in order if labels[i] == L_BODY]
    for position in range(_MIN_BODY_ABOVE_CASUAL, len(body) - _MIN_BARE_COMMENTS + 1):
        above, rest = body[position - 1], body[position:]
        if (
            _LOWER_WORD.match(page.lines[rest[0]])
            and page.lines[above].endswith(_SENTENCE_END)
            and all(below - top >= 2 for top, below in itertools.pairwise([above, *rest]))
        ):
            labels.update(dict.fromkeys(rest, L_START))
            break
    return labels


def _with_talk_under_a_brief(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """Mirror pages that carry a brief (one paragraph, sometimes shown twice) and their
    readers' comments as bare lines under it, with no title, author line, blank line or
    chrome: when the line under the brief talks as readers do (see _TALK) and is no quote,
    the brief is the body, and the line and each line below it a comment of its own. Only
    the register tells these lines from the article's, so a page with anything more to go by
    is left to the labeller."""
    order = sorted(labels)
    if (
        len(order) < 1 + _MIN_BARE_COMMENTS
        or known
        or any(label not in (L_BODY, L_START, L_MORE) for label in labels.values())
        or order[-1] - order[0] != len(order) - 1
        or not _reads_like_sentences(page.lines[order[0]])
    ):
        return labels
    shown_twice = page.lines[order[1]].strip() == page.lines[order[0]].strip()
    below = order[2:] if shown_twice else order[1:]
    if len(below) < _MIN_BARE_COMMENTS:
        return labels
    first = page.lines[below[0]]
    if not _TALK.search(first) or _QUOTED.search(first):
        return labels
    labels[order[0]] = L_BODY
    if shown_twice:
        labels[order[1]] = L_CHROME  # a preview of the brief: its words are counted once
    labels.update(dict.fromkeys(below, L_START))
    return labels


def _with_comment_under_each_stamp(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """Widgets that show each comment's time and no name: a time stamp right above comment
    text opens a comment, unless an author line above the stamp heads it. Prose the labeller
    called chrome just above the first such stamp is the comment before it (its stamp not
    crawled), set apart as the other comments are."""
    order = sorted(labels)
    stamps = [i for i in order if known.get(i) == "date" and labels.get(i + 1) in (L_START, L_MORE)]
    for number, stamp in enumerate(stamps):
        above = next(
            (
                i
                for i in reversed(order[: order.index(stamp)])
                if labels[i] != L_CHROME or (i not in known and reads_like_prose(page.lines[i]))
            ),
            None,
        )
        if above is None or labels[above] in (L_AUTHOR, L_TITLE):
            continue
        if labels[above] == L_CHROME and number == 0:
            labels[above] = L_START
        if labels[above] in (L_START, L_MORE):
            labels[stamp + 1] = L_START
    return labels


def _with_article_above_marked_thread(labels: dict[int, str], page: _Page) -> dict[int, str]:
    """Where comments open with a thread marker (`• Name`, `2. `, `Name says:`), a comment
    above the first marked one is the article's: its prose the body, the rest chrome. Below
    it, marked lines below a blank line open comments, and an unmarked line right under
    comment text is more of that comment."""
    order = sorted(labels)
    first_marked = next(
        (
            index
            for index in order
            if labels[index] in (L_AUTHOR, L_START)
            and (_THREAD_MARKER.match(page.lines[index]) or _says_name(page.lines[index]))
        ),
        None,
    )
    if first_marked is None:
        return labels
    for index in order[: order.index(first_marked)]:
        if labels[index] in (L_START, L_MORE):
            labels[index] = L_BODY if reads_like_prose(page.lines[index]) else L_CHROME
    # The last comment opened by a marker on its own text line (`3. The text`), not by an
    # author line.
    opened = None
    for index in order[order.index(first_marked) :]:
        # Marked comments open at their marker, below a blank line; an unmarked line right
        # under comment text, or indented under the text of a marked one (its next
        # paragraph), goes on with that comment.
        marked = bool(_THREAD_MARKER.match(page.lines[index]))
        under_text = labels.get(index - 1) in (L_START, L_MORE)
        hanging = opened is not None and page.indent(index) > page.indent(opened)
        if labels[index] == L_START and not marked and (under_text or hanging):
            labels[index] = L_MORE
        elif labels[index] == L_MORE and marked and index - 1 not in labels:
            labels[index] = L_START
        if labels[index] == L_AUTHOR or (labels[index] == L_START and marked):
            opened = index if labels[index] == L_START else None
    return labels


def _with_title_above_body(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """The title line, checked against the body: a line labelled title that ends in a colon
    introduces the body and is its first line; a page with a body and no title line takes
    its first line for the headline when it reads like one (short, no closing full stop or
    colon) and stands above the body."""
    titles = [index for index in sorted(labels) if labels[index] == L_TITLE]
    if titles and page.lines[titles[0]].endswith(":") and L_BODY in labels.values():
        # No headline ends in a colon: a line that does introduces the body below it.
        labels[titles[0]] = L_BODY
    if titles and _reads_like_sentences(page.lines[titles[0]]):
        # Nor is a headline made of sentences: such a line opens the body.
        labels[titles[0]] = L_BODY
    if L_TITLE in labels.values():
        return labels
    order = [index for index in sorted(labels) if index not in known]
    body = [index for index in order if labels[index] == L_BODY]
    if not body:
        return labels
    first = order[0]
    takes_title = labels[first] in (L_CHROME, L_BODY) and body != [first]
    if takes_title and _headline_like(page.lines[first]):
        labels[first] = L_TITLE
    return labels


def _headline_like(line: str) -> bool:
    """Short, with no closing full stop or colon, not sentences: a line that can be a title."""
    return (
        len(line) <= _MAX_TITLE_CHARS
        and not line.endswith((*_SENTENCE_END, ":"))
        and not _reads_like_sentences(line)
    )


def _reads_like_sentences(line: str) -> bool:
    """Sentences of prose, not a headline: one sentence ends and another begins, and most
    words are in small letters (headlines capitalise theirs: `Talks Fail. Army Moves In`)."""
    words = line.split()
    capitalised = sum(word[:1].isupper() for word in words)
    return bool(_SENTENCE_BREAK.search(line)) and capitalised * 2 < len(words)


def _bullet_authors(page: _Page, content: list[int]) -> dict[int, int]:
    """Lines of a bulleted thread that name a commenter (`• Name`: a few words, no closing
    punctuation, not a lone avatar initial) with the comment's text indented deeper on the
    next line; each with that line."""
    authors = {}
    for index, below in itertools.pairwise(content):
        if not page.lines[index].startswith(_BULLETS):
            continue
        name = page.lines[index][2:].strip()
        if (
            len(name) > 1
            and len(name.split()) <= _MAX_AUTHOR_WORDS
            and not name.endswith((*_SENTENCE_END, ":", ","))
            and page.indent(below) > page.indent(index)
        ):
            authors[index] = below
    return authors


def _without_caption_atop_body(labels: dict[int, str], page: _Page) -> dict[int, str]:
    """Short lines that open the body without ending a sentence (an image caption, a place
    and date), and a caption that ends in its photo credit (`... (AP Photo/Jo Lee)`), are
    chrome: the body begins with its first sentence."""
    body = [index for index in sorted(labels) if labels[index] == L_BODY]
    for index in body[:-1]:
        line = page.lines[index]
        if _PHOTO_CREDIT.search(line):
            labels[index] = L_CHROME
            continue
        if (
            len(line.split()) > _MAX_CAPTION_WORDS
            or line.endswith((*_SENTENCE_END, ":"))
            or _reads_like_sentences(line)
        ):
            break
        labels[index] = L_CHROME
    return labels


def _with_body_under_title(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """A page with no body line: the sentences between its title (or its top, when it has
    neither title nor comments) and the comments are its body (a short page gives the
    labeller little to go on)."""
    order = sorted(labels)
    title = next((i for i in order if labels[i] == L_TITLE), None)
    if L_BODY in labels.values():
        return labels
    if title is None:
        if set(labels.values()) != {L_CHROME}:
            return labels
        start = 0
    else:
        start = order.index(title) + 1
    for index in order[start:]:
        if labels[index] in (L_AUTHOR, L_START, L_MORE):
            break
        line = page.lines[index]
        sentence = len(line.split()) >= _MIN_SENTENCE_WORDS and line.endswith(_SENTENCE_END)
        if index not in known and labels[index] == L_CHROME and sentence:
            labels[index] = L_BODY
    return labels


def _with_text_under_each_author(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """An author line is followed by its text: when the labeller gave it none, the first line
    below it that does not look like chrome is its text (a one-word reply such as `Quiet.`),
    past the comment's time stamp; a comment the labeller opened right under it (one blank
    line) is that text, not a comment without an author."""
    order = sorted(labels)
    for position, index in enumerate(order):
        if labels[index] != L_AUTHOR:
            continue
        for below in order[position + 1 :]:
            label = labels[below]
            if known.get(below) == "date":
                continue
            if label == L_START and below - index <= 2 and below not in page.glued_authors:
                labels[below] = L_MORE
            if label in (L_AUTHOR, L_START, L_MORE) or below in known:
                break
            if not looks_like_chrome(page.lines[below]):
                labels[below] = L_MORE
                break
    return labels


def _without_comments_under_a_zero_count(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """A page whose comment counts all say zero (`0 Comments`, `Comments (0)`) has no
    comments: what the labeller took for one is chrome (kept as unsplit text if it reads
    like prose)."""
    counts = [
        _COMMENT_COUNT.search(page.lines[i]) for i, kind in known.items() if kind == "section"
    ]
    numbers = [int(found[1] or found[2] or 0) for found in counts if found]
    if not numbers or any(numbers):
        return labels
    comment = (L_AUTHOR, L_START, L_MORE)
    return {i: L_CHROME if label in comment else label for i, label in labels.items()}


def _without_invented_comments(
    labels: dict[int, str], known: dict[int, str], page: _Page
) -> dict[int, str]:
    """A page of one comment and nothing else, with no comment chrome, is an article: its
    first line the title if it reads like one, the rest the body. A wrong guess of comments
    costs more than none."""
    opened = [i for i, label in labels.items() if label in (L_AUTHOR, L_START)]
    article = [i for i, label in labels.items() if label in (L_TITLE, L_BODY)]
    sections = [i for i, kind in known.items() if kind in ("widget", "section")]
    if len(opened) != 1 or article or sections:
        return labels
    text = sorted(i for i, label in labels.items() if label != L_CHROME)
    relabelled = dict(labels)
    relabelled.update({index: L_BODY for index in text})
    if len(text) > 1 and _headline_like(page.lines[text[0]]):
        relabelled[text[0]] = L_TITLE
    return relabelled


def _allowed_by_rules(
    page: _Page, known: dict[int, str], content: list[int]
) -> dict[int, tuple[str, ...]]:
    """What lines can be whatever the labeller thinks, where a rule knows: the author lines
    of marked threads and their texts, and every line of a comment thread."""
    says = [i for i in content if page.lines[i].endswith(_SAYS) and _says_name(page.lines[i])]
    # One `says:` line may introduce a quote; a thread numbers them or has more.
    authors = {i for i in says if len(says) >= 2 or _NUMBERED.match(page.lines[i])}
    bulleted = _bullet_authors(page, content)
    dated = [
        i for i in content if page.lines[i].endswith(")") and _DATED_AUTHOR.fullmatch(page.lines[i])
    ]
    if len(dated) >= 2:
        authors |= set(dated)
    # A talkback's numbered title, right above its dated author line, is not its text.
    titles = [i - 1 for i in dated if i and _NUMBERED.match(page.lines[i - 1])]
    talkback = titles[:1] if len(dated) >= 2 else []
    widget = min((i for i, kind in known.items() if kind == "widget"), default=len(page))
    # A header that names the post (`14 thoughts on "Title"`), the second dated author line or
    # the first talkback title opens the comments as surely as the widget.
    named = [i for i in known if _NAMED_SECTION.fullmatch(page.lines[i])]
    thread = min([widget, *named, *dated[1:2], *talkback])
    # In a thread there are only comments, and chrome that looks like it; in talkbacks each
    # comment opens with its dated author line.
    comment = (L_AUTHOR, L_MORE) if talkback else (L_AUTHOR, L_START, L_MORE)
    allowed: dict[int, tuple[str, ...]] = {}
    for index in content:
        if index > thread:
            chrome = (L_CHROME,) if looks_like_chrome(page.lines[index]) else ()
            allowed[index] = (*comment, *chrome)
    allowed.update(dict.fromkeys(authors | bulleted.keys(), (L_AUTHOR,)))
    allowed.update(dict.fromkeys(bulleted.values(), (L_MORE,)))
    allowed.update(dict.fromkeys(titles, (L_CHROME,)))
    allowed.update(dict.fromkeys(page.glued_authors, (L_START,)))
    # An author line is a name and its decoration, never a long line of text.
    anything = (L_TITLE, L_BODY, L_CHROME, L_AUTHOR, L_START, L_MORE)
    # Most lines are long: each set of labels loses its author label once.
    without_author: dict[tuple[str, ...], tuple[str, ...]] = {}
    for index in content:
        if len(page.lines[index]) > _MAX_AUTHOR_LINE_CHARS:
            labels = allowed.get(index, anything)
            if labels not in without_author:
                without_author[labels] = tuple(label for label in labels if label != L_AUTHOR)
            allowed[index] = without_author[labels]
    return allowed


def looks_like_chrome(line: str) -> bool:
    """Short lines of widget words, counts, dates or separators (`Reply · Like (4)`)."""
    # Split no further than needed to tell: most lines are long.
    words = line.split(None, 6)
    if len(words) > 6:
        return False
    # A link's digits (`twitter.com/user/status/1274298847968268288`) are no count or date.
    unlinked = _LINK.sub("", line)
    return bool(_DIGIT.search(unlinked) or _CHROME_SEPARATOR.search(line)) or all(
        word.lower().strip(".:,!()") in CUE_WORDS for word in words
    )


def line_inputs(
    prepared: list[tuple[_Page, dict[int, str]]],
) -> list[tuple[list[int], list[list[str]]]]:
    """The labeller's input for each prepared page as it is trained on: its non-blank lines and
    their attributes."""
    contents = [page.content() for page, _ in prepared]
    features = line_features(_lines_frame(prepared, contents)) if any(contents) else []
    inputs = []
    start = 0
    for content in contents:
        inputs.append((content, features[start : start + len(content)]))
        start += len(content)
    return inputs


def _labelled(
    prepared: list[tuple[_Page, dict[int, str]]],
) -> list[tuple[list[int], line_model.Tagging]]:
    """Each prepared page's non-blank lines and the labeller's labels for them."""
    model = line_model.load(MODEL_PATH)
    contents = [page.content() for page, _ in prepared]
    if any(contents):
        ids = line_attribute_ids(_lines_frame(prepared, contents), model.attributes)
        scores = line_model.line_scores(model, ids)
    else:
        scores = np.zeros((0, len(model.labels)))
    taggings = line_model.tag(model, scores, [len(content) for content in contents])
    return list(zip(contents, taggings, strict=True))


def _lines_frame(
    prepared: list[tuple[_Page, dict[int, str]]], contents: list[list[int]]
) -> pl.DataFrame:
    """One row per non-blank line of the prepared pages (see LINES_SCHEMA)."""
    # Built a column at a time: polars takes lists of one type far faster than rows.
    columns: dict[str, list] = {"line_no": [], "line": [], "raw": [], "kind": []}
    for (page, known), content in zip(prepared, contents, strict=True):
        columns["line_no"] += content
        columns["line"] += [page.lines[index] for index in content]
        columns["raw"] += [page.raw[index] for index in content]
        columns["kind"] += [known.get(index) for index in content]
    lengths = [len(content) for content in contents]
    return pl.DataFrame(
        {
            "page": np.repeat(np.arange(len(contents)), lengths),
            "position": np.arange(sum(lengths)) - np.repeat(np.cumsum(lengths) - lengths, lengths),
            **columns,
        },
        schema=LINES_SCHEMA,
    )


def _take_title(page: _Page, labels: dict[int, str]) -> str | None:
    """The first line labelled a title; its repeats further down are captions."""
    first = next((i for i, label in sorted(labels.items()) if label == L_TITLE), None)
    if first is None or page.roles[first] is not None:
        return None
    title = page.lines[first]
    page.roles[first] = TITLE
    same = loose(title)
    for index in labels:
        if page.roles[index] is None and (
            labels[index] == L_TITLE or _same_text(page.lines[index], title, same)
        ):
            page.roles[index] = CHROME
    return title


def _same_text(line: str, title: str, title_loose: str) -> bool:
    # Lengths first: comparing loosely costs a normalisation of the line.
    return abs(len(line) - len(title)) <= 2 + len(title) // 10 and loose(line) == title_loose


def loose(line: str) -> str:
    """`line` compared loosely: case, quote style and spacing aside (captions repeat titles)."""
    return " ".join(unicodedata.normalize("NFKC", line).translate(_QUOTES).casefold().split())


def _read_comments(page: _Page, labels: dict[int, str]) -> list[Comment]:
    """Comments from the author, start and further-text labels, in page order."""
    comments: list[Comment] = []
    current: Comment | None = None
    last_text = -2
    for index in sorted(labels):
        label = labels[index]
        if page.roles[index] is not None or label not in (L_AUTHOR, L_START, L_MORE):
            continue
        line = page.lines[index]
        if label == L_AUTHOR:
            current = Comment(author=author_name(line), author_line=index)
            comments.append(current)
            page.roles[index] = AUTHOR
            continue
        if label == L_START or current is None:
            current = Comment(author=page.glued_authors.get(index))
            comments.append(current)
        text = _THREAD_MARKER.sub("", line, count=1) if not current.text_lines else line
        joined = current.text_lines and last_text == index - 1
        if joined:
            current.paragraphs[-1] += "\n" + text
        else:
            current.paragraphs.append(text)
        current.text_lines.append(index)
        page.roles[index] = COMMENT
        last_text = index
    comments = _without_cut_off_author(page, comments)
    _thread(page, comments)
    return comments


# Regular commenters' lines recur across the pages of a crawl.
@functools.lru_cache(maxsize=4096)
def author_name(line: str) -> str:
    """The commenter's name on an author line, without the thread number or bullet, `says:`,
    an `Avatar` image label, a post number or a trailing time stamp."""
    says = _says_name(line)
    name = says if says is not None else _THREAD_MARKER.sub("", line, count=1)
    posted = _POSTED_BY.fullmatch(name)
    if posted:
        name = posted["name"]
    name = _AUTHOR_DECORATION.sub("", name).strip()
    return name or line


def _name_like(line: str) -> bool:
    """A line that could be a commenter's name alone: a few words, no closing punctuation."""
    return (
        len(line) <= _MAX_NAME_CHARS
        and len(line.split()) <= _MAX_AUTHOR_WORDS
        and not line.endswith((*_SENTENCE_END, ":", ","))
        and not looks_like_chrome(line)
    )


def _says_name(line: str) -> str | None:
    if not line.endswith(_SAYS):
        return None
    match = _SAYS_LINE.fullmatch(line)
    if match is None or len(match["name"].split()) > _MAX_AUTHOR_WORDS + 2:
        return None
    return match["name"]


def _without_cut_off_author(page: _Page, comments: list[Comment]) -> list[Comment]:
    """A crawl cut off right after an author line leaves that line last on the page with no
    text: it is kept as unsplit text, not as an empty comment."""
    if not comments or comments[-1].paragraphs or comments[-1].author_line is None:
        return comments
    last_line = max((i for i, line in enumerate(page.lines) if line), default=-1)
    if comments[-1].author_line != last_line:
        return comments
    page.roles[last_line] = UNSPLIT
    return comments[:-1]


def _opener(comment: Comment) -> int:
    """The line a comment opens with: its author line, else its first line of text."""
    return comment.author_line if comment.author_line is not None else comment.text_lines[0]


def _thread(page: _Page, comments: list[Comment]) -> None:
    """Reply depth from the indentation of each comment's first line (two or four spaces per
    level), and the parent: the latest comment one level up.

    Where comments open with a thread marker (`2. `, `• `, `Name says:`), only those lines
    set the levels; a comment without one takes the level of its indentation among them.
    """
    openers = [_opener(comment) for comment in comments]
    if not openers:
        return
    indents = [page.indent(index) for index in openers]
    marked = [
        indent
        for indent, index in zip(indents, openers, strict=True)
        if _THREAD_MARKER.match(page.lines[index]) or _says_name(page.lines[index])
    ]
    levels = marked or indents
    base = min(levels)
    steps = {indent - base for indent in levels} - {0}
    step = 4 if steps and all(s % 4 == 0 for s in steps) else 2
    latest_at_depth: list[int] = []
    for number, (comment, indent) in enumerate(zip(comments, indents, strict=True)):
        depth = min(max(indent - base + step // 2, 0) // step, len(latest_at_depth))
        comment.depth = depth
        comment.parent = latest_at_depth[depth - 1] if depth > 0 else None
        del latest_at_depth[depth:]
        latest_at_depth.append(number)


def _layout(page: _Page, comments: list[Comment], known: dict[int, str]) -> str:
    openers = [_opener(comment) for comment in comments]
    lines = [page.raw[index].strip() for index in openers]
    if any(_says_name(line) or _NUMBERED.match(line) for line in lines):
        return "numbered"
    if any(line.startswith("•") for line in lines):
        return "bullets"
    kinds = set(known.values())
    if not comments:
        return "unknown" if kinds & {"widget", "section"} else "none"
    if "widget" in kinds or _wpdiscuz_shaped(page, comments):
        return "wpdiscuz"
    return "other"


def _wpdiscuz_shaped(page: _Page, comments: list[Comment]) -> bool:
    """Most author lines hold the name alone, with one blank line before the text."""
    authored = [(c, c.author_line) for c in comments if c.author_line is not None]
    shaped = [
        c
        for c, line in authored
        if c.author == page.lines[line]
        and not page.lines[line + 1]
        and c.text_lines[:1] == [line + 2]
    ]
    return bool(shaped) and len(shaped) * 2 >= len(authored)


def reads_like_prose(line: str) -> bool:
    """A line of sentences: never dropped as chrome on the labeller's word alone."""
    return len(line.split()) >= _PROSE_WORDS and line.endswith(_SENTENCE_END)


def _text_of(page: _Page, role: str) -> str | None:
    """The lines of `role`, a paragraph per run of adjacent lines."""
    paragraphs: list[str] = []
    previous = -2
    for index, line in enumerate(page.lines):
        if page.roles[index] != role:
            continue
        if previous == index - 1 and paragraphs:
            paragraphs[-1] += "\n" + line
        else:
            paragraphs.append(line)
        previous = index
    return "\n\n".join(paragraphs) or None


def _review_flags(
    page: _Page,
    title: str | None,
    body: str | None,
    comments: list[Comment],
    certainty: list[float],
) -> tuple[str, ...]:
    flags = {
        "no_title": title is None,
        "no_body": body is None,
        "unsplit_text": UNSPLIT in page.roles,
        "uncertain_lines": any(value < _UNCERTAIN for value in certainty),
        "empty_comment": any(not comment.paragraphs for comment in comments),
        "comments_without_author": sum(c.author is None for c in comments) * 2 > len(comments),
    }
    return tuple(name for name, raised in flags.items() if raised)


def stable_id(*parts: object) -> str:
    """A short key that depends only on `parts`, the same in every run, and different for
    different `parts` (short of a hash collision)."""
    return hashlib.sha256(_ID_SEPARATOR.join(map(_id_part, parts)).encode()).hexdigest()[:16]


_ID_SEPARATOR = "\x1f"


def _id_part(part: object) -> str:
    # Escaped so that the joined parts decode one way only: a separator inside a comment's
    # text cannot make two comments one key, nor can an empty author pass for no author.
    # Parts without a backslash or separator keep the key they had before.
    if part is None:
        return ""
    text = str(part)
    return text.replace("\\", "\\\\").replace(_ID_SEPARATOR, "\\s") if text else "\\e"


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
    pages: pl.DataFrame, pool: Executor | None = None, timeout: float | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Parse every page in `pages` (source, source_path, sha256, text), on the workers of
    `pool` when one is given (without a source column, the source is empty), each page in at
    most `timeout` seconds (None: no limit).

    Returns (article, comment, rejects), rejects with their reason: no_text for a page with
    no text but its header and site chrome (text the parser cannot place is kept as the
    article's unsplit_text), parse_timeout for a page that ran over its time.
    """
    # The worker processes import this module only to parse: DuckDB and the schema stay out.
    from flows.schema import polars_schema

    if "source" not in pages.columns:
        pages = pages.with_columns(source=pl.lit(""))
    rows = pages.select("source", "source_path", "sha256", "text").rows()
    # The run sets who loaded a page, and the load which crawl's page it re-crawls.
    later = ("loaded_by_run", "previous_article_id")
    article_schema = {k: v for k, v in polars_schema("article").items() if k not in later}
    # The data-quality gate, not the parser, marks comments that break its rules; the load
    # adds what the marts read of them.
    not_parsed = ("dq_flags", "normalised_text", "entities_named")
    comment_schema = {k: v for k, v in polars_schema("comment").items() if k not in not_parsed}
    schemas = (article_schema, comment_schema, dict(REJECT_SCHEMA))
    # Each worker hands back frames, not rows: Arrow buffers cross between processes far
    # faster than half a million pickled dictionaries, and the frames are built in parallel.
    parse_rows = functools.partial(_parse_rows, schemas=schemas, timeout=timeout)
    # A page's time budget binds only in a main thread (flows/timebox.py): off it (a batch
    # parsed ahead, beside the flow) even a few pages go to the workers.
    in_main_thread = threading.current_thread() is threading.main_thread()
    if pool is None or (len(rows) < _MIN_PAGES_FOR_WORKERS and in_main_thread):
        parts = [parse_rows(rows)]
    else:
        size = -(-len(rows) // _CHUNKS_PER_BATCH)
        parts = list(pool.map(parse_rows, [rows[i : i + size] for i in range(0, len(rows), size)]))
    articles, comments, rejects = zip(*parts, strict=True)
    return pl.concat(articles), pl.concat(comments), pl.concat(rejects)


def _parse_rows(
    rows: list[tuple[str, str, str, str]],
    schemas: tuple[dict[str, pl.DataType], ...],
    timeout: float | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Article, comment and reject frames (of `schemas`) of some pages (source, source_path,
    sha256, text)."""
    articles: list[dict] = []
    comments: list[dict] = []
    rejects: list[dict] = []
    parsed_pages = _parse_within([text for *_, text in rows], timeout)
    for (source, source_path, sha256, _), parsed in zip(rows, parsed_pages, strict=True):
        if parsed is None or (
            parsed.title is None
            and parsed.body is None
            and not parsed.comments
            and parsed.unsplit is None
        ):
            reason = "parse_timeout" if parsed is None else "no_text"
            rejects.append(
                {"source": source, "source_path": source_path, "sha256": sha256, "reason": reason}
            )
            continue
        # A page is its crawl (source) and its path in it.
        article_id = stable_id(source, source_path)
        articles.append(
            {
                "article_id": article_id,
                "source": source,
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
    article_schema, comment_schema, reject_schema = schemas
    return (
        pl.DataFrame(articles, schema=article_schema),
        pl.DataFrame(comments, schema=comment_schema),
        pl.DataFrame(rejects, schema=reject_schema),
    )


def _parse_within(texts: list[str], timeout: float | None) -> list[ParsedPage | None]:
    """Parse `texts`, each within `timeout` seconds; None for a page that ran over it.

    The pages are parsed together (the features of all lines at once) on a budget of
    `timeout` and a little per page; only when that runs out are they parsed one by one.
    """
    if not timeout:
        return list(parse_texts(texts))
    try:
        with time_budget(timeout + _BUDGET_PER_PAGE * len(texts)):
            return list(parse_texts(texts))
    except OverBudgetError:
        pass
    parsed: list[ParsedPage | None] = []
    for text in texts:
        try:
            with time_budget(timeout):
                parsed.append(parse_texts([text])[0])
        except OverBudgetError:
            parsed.append(None)
    return parsed


def _comment_rows(article_id: str, comments: list[Comment]) -> list[dict]:
    # The same author can post the same words twice; the occurrence keeps their ids apart
    # while leaving ids unchanged when other comments are added around them.
    occurrences: dict[tuple[str | None, str], int] = {}
    ids: list[str] = []
    rows = []
    for position, comment in enumerate(comments, start=1):
        body = comment.body
        key = (comment.author, body)
        occurrences[key] = occurrences.get(key, 0) + 1
        ids.append(stable_id(article_id, comment.author, body, occurrences[key]))
        rows.append(
            {
                "comment_id": ids[-1],
                "article_id": article_id,
                "position": position,
                "author": comment.author,
                "depth": comment.depth,
                "parent_comment_id": None if comment.parent is None else ids[comment.parent],
                "body": body,
            }
        )
    return rows


# What each review flag (ParsedPage.flags, article.parse_flags) tells an analyst.
REVIEW_FLAGS = {
    "no_title": "The page shows no title (mirror pages), or the parser missed it.",
    "no_body": "No article body (pages of only comments), or the body went elsewhere.",
    "unsplit_text": "Text the parser could not place, kept in article.unsplit_text.",
    "uncertain_lines": f"The line labeller was less than {_UNCERTAIN} sure of some line.",
    "empty_comment": "A comment with an author line and no text.",
    "comments_without_author": "More comments without an author than with one.",
}
