"""Tests for flows.parse: title, body, crawl month and comments of a page, without chrome."""

import json
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from flows import line_model, parse
from flows.extract import decode
from flows.parse import (
    CHROME_LINES,
    PARSER_VERSION,
    ParsedPage,
    author_name,
    looks_like_chrome,
    parse_page,
    parse_pages,
    prepared_page,
    reads_like_prose,
    worker_pool,
)
from flows.quality.gate import CHROME_LINE_REGEX
from flows.schema import polars_schema

TESTS = Path(__file__).resolve().parent
SAMPLE_PAGES = TESTS.parent / "sample_pages"
SEED_000 = SAMPLE_PAGES / "000_555b52a31fc83634.txt"
SEED_002 = SAMPLE_PAGES / "002_d9744a95c5038ee5.txt"
FIXTURE_PAGES = TESTS / "fixtures" / "pages"
FIXTURE_NAMES = sorted(path.stem for path in FIXTURE_PAGES.glob("*.txt"))
CHROME = re.compile("|".join(f"(?:{pattern})" for pattern in CHROME_LINES))
# Chrome lines in the shapes LAYOUTS.md lists: each must be recognised as a whole line.
CHROME_EXAMPLES = [
    "Support SouthFront",
    "Click to see the full-size image",
    "Click to see the full-size map",
    "Click to see full-size map.",
    "Click to see full-size image",
    "Illustrative image",
    "ILLUSTRATIVE IMAGE.",
    "Illustrative image, source: a news agency",
    "file image",
    "IMAGE: a photo agency",
    "FILE PHOTO: a photo agency",
    "Written by the news desk",
    "South Front",
    "PayPal: an address and a link",
    "BITCOIN (BTC): 1aB2cD3eF4gH5iJ6kL7mN8oP9",
    "BITCOIN CASH (BCH): qzx9y8w7v6u5t4",
    "PAYPAL, CREDIT CARD etc: write to info@example.org",
    "Do you like this content? Consider helping us!",
    "Notify of",
    "Newest Most Voted",
    "Inline Feedbacks",
    "View all comments",
    "Would love your thoughts, please comment.x",
    "Would love your thoughts, please comment.\u00d7",
    "Would love your thoughts, please comment.",
    "()",
    "Click to see the full size map",
    "By Anna Berg and Jon Dahl",
    "By J. Smith",
    "Posted on by editor",
    "Posted on May 3, 2021 by the news desk",
    "Source: a news agency",
    "Read more at the agency's press office",
    "Share it:",
    "Share this:",
    "Loading Facebook Comments ...",
    'Be the first to comment at "Ferry Service Resumes"',
    "Be the first to comment",
    "No comments yet.",
]
NOT_CHROME = [
    "Support SouthFront and its reporters, one reader wrote.",
    "Illustrative images of the bridge were shown to the council.",
    "South Front lines held through the night.",
    "Notify of any changes, the mayor said.",
    "Be the first to comment on the plan, the council asked residents.",
    "By Friday the bridge was open again.",
    "Bitcoin fell again on Monday: traders blamed the new rules.",
    "Source: the ministry said on Monday that the fighting had stopped.",
    "Share this story with your neighbours, the mayor asked.",
    "Read more on this in our report tomorrow, the editor said.",
]
# A chrome pattern's word followed by more letters, ASCII or not: the patterns end their
# words without `\b` (see ARTICLE_CHROME), and must still end them.
WORDS_RUNNING_ON = [
    "Illustrative image, sourced from the council's archive",
    "Illustrative image, sourceé by hand",
    "Ethan: it was never about the money",
    "Moneroé: a coin that no one has heard of",
    "Posted online: the ministry's statement in full",
    "Posted byé nobody",
    "If you're able, and if you like our content and approach, please supporting",
]

# Hand-labelled from the seed pages, in page order.
SEED_000_AUTHORS = [
    "Red Pilled ThoughtCrimes",
    "johnny rotten",
    "klove and light",
    "Ricky Miller",
    "Raptar Driver",
    "Jim Bim",
    None,
    "Karen Bartlett",
    None,  # "Su 34s": a one-line reply that reads like a name
    "Karen Bartlett",
    "Tim Williams",
    "Rafik Chauhan",
    None,
    "Tim Williams",
    None,
    "Tim Williams",
    "Karen Bartlett",
    "Tim Williams",
    "Tim Williams",
    "Tim Williams",
    "Tim Williams",
    None,
    "Karen Bartlett",
    None,
    "Porc Halal",
    "Lazy Gamer",
    "Blas de Lezo",
    "Xoli Xoli",
    "Xoli Xoli",
    None,
]
SEED_002_AUTHORS = [
    "Xoli Xoli",
    "Xoli Xoli",
    None,
    "Xoli Xoli",
    None,
    "Xoli Xoli",
    None,
    "Xoli Xoli",
    "Xoli Xoli",
    None,
    "Rafik Chauhan",
    "Lone Ranger",
    "Xoli Xoli",
    "Willing Conscience (The Truths",
]


def parse_file(path: Path) -> ParsedPage:
    """Parse a page file the way the pipeline does: bytes decoded by flows.extract.decode."""
    text = decode(path.read_bytes()).text
    assert text is not None
    return parse_page(text)


@pytest.fixture(scope="module")
def seed_000() -> ParsedPage:
    return parse_file(SEED_000)


@pytest.fixture(scope="module")
def seed_002() -> ParsedPage:
    return parse_file(SEED_002)


# The seed pages


def test_seed_000_article(seed_000: ParsedPage) -> None:
    assert seed_000.title == (
        "Turkish Troops Fail To Secure M4 Highway Ahead Of Joint Patrol With Russian Forces. "
        "Patrol Is Limited To A Few Km Only (Photos, Videos)"
    )
    assert seed_000.body is not None
    assert seed_000.body.startswith("On March 15, the Russian Military Police")
    assert seed_000.body.endswith("a new round of escalation in the region.")
    assert seed_000.body.count("\n\n") == 5  # six paragraphs, no captions between them
    assert seed_000.crawl_month == date(2025, 3, 1)
    assert seed_000.layout == "wpdiscuz"


def test_seed_000_comments(seed_000: ParsedPage) -> None:
    authors = [comment.author for comment in seed_000.comments]

    assert authors == SEED_000_AUTHORS
    assert len(authors) == 30
    assert authors.count(None) == 7
    assert Counter(authors)["Tim Williams"] == 7
    assert Counter(authors)["Karen Bartlett"] == 4
    first, last = seed_000.comments[0], seed_000.comments[-1]
    assert (first.author, first.body) == (
        "Red Pilled ThoughtCrimes",
        "has March 2016 war diaries been released?",
    )
    assert last.author is None
    assert last.body.startswith("Was anyone stupid enough")


def test_seed_000_one_line_reply_that_reads_like_a_name(seed_000: ParsedPage) -> None:
    bodies = [comment.body for comment in seed_000.comments]
    reply = bodies.index("Su 34s")

    assert seed_000.comments[reply].author is None
    assert seed_000.comments[reply + 1].author == "Karen Bartlett"
    assert seed_000.comments[reply + 1].body.startswith("Oh, ok, thanks, Wizzy.")


def test_seed_000_paragraphs_of_a_comment_are_joined_by_a_blank_line(
    seed_000: ParsedPage,
) -> None:
    (comment,) = [c for c in seed_000.comments if c.author == "klove and light"]

    paragraphs = comment.body.split("\n\n")
    assert len(paragraphs) == 3
    assert [paragraph.split()[:3] for paragraph in paragraphs] == [
        ["great", "Zionist", "plan……this"],
        ["way", "to", "go"],
        ["death", "to", "america"],
    ]


def test_seed_002_article(seed_002: ParsedPage) -> None:
    assert seed_002.title == (
        "Russian, Turkish Forces Achieve Breakthrough On 12th Joint Patrol In Greater Idlib "
        "(Photos)"
    )
    assert seed_002.body is not None
    assert seed_002.body.startswith("On May 20, the Russian Military Police")
    assert seed_002.body.endswith("terrorist groups occupying Greater Idlib.")
    assert seed_002.crawl_month is None
    assert seed_002.layout == "wpdiscuz"


def test_seed_002_comments(seed_002: ParsedPage) -> None:
    authors = [comment.author for comment in seed_002.comments]

    assert authors == SEED_002_AUTHORS
    assert len(authors) == 14
    assert authors.count(None) == 4
    assert Counter(authors)["Xoli Xoli"] == 7


def test_seed_002_last_comment_keeps_all_its_paragraphs(seed_002: ParsedPage) -> None:
    last = seed_002.comments[-1]

    assert last.author == "Willing Conscience (The Truths"
    assert last.body.startswith("Both the Russians and their Turkish friends")
    assert "I wonder how well trade" in last.body
    assert last.body.endswith("between the Syrian government and HTS is going?")
    assert len(last.body.split("\n\n")) == 3


@pytest.mark.parametrize("line", CHROME_EXAMPLES)
def test_chrome_lines_are_recognised(line: str) -> None:
    assert CHROME.fullmatch(line)
    assert _in_text(line).str.contains(CHROME_LINE_REGEX).all()


@pytest.mark.parametrize("line", WORDS_RUNNING_ON)
def test_a_chrome_word_running_on_is_not_chrome(line: str) -> None:
    assert not CHROME.fullmatch(line)
    # The data-quality gate reads texts with polars' regular expressions, not Python's.
    assert not _in_text(line).str.contains(CHROME_LINE_REGEX).any()


def _in_text(line: str) -> pl.Series:
    """`line` alone, and as a line of a longer text."""
    return pl.Series([line, f"Body text.\n{line}\nMore text."])


@pytest.mark.parametrize("line", NOT_CHROME)
def test_text_that_merely_starts_like_chrome_is_kept(line: str) -> None:
    assert not CHROME.fullmatch(line)
    assert parse_page(f"A Title\n\n{line}\n").body == line


# Each known chrome line, written out, with the kind of chrome the rules call it: a pattern
# dropped from the parser's lists, moved to another list or widened fails here.
KNOWN_CHROME = {
    "Support SouthFront": "article",
    "Click to see the full-size image": "article",
    "Click to see full-size map.": "article",
    "Click to see the full size photo": "article",
    "Illustrative image": "article",
    "ILLUSTRATIVE IMAGE.": "article",
    "Illustrative image, source: a news agency": "article",
    "file image": "article",
    "File photo.": "article",
    "IMAGE: a photo agency": "article",
    "FILE PHOTO: a photo agency": "article",
    "Written by the news desk": "article",
    "South Front": "article",
    "PayPal: an address and a link": "article",
    "BITCOIN (BTC): 1aB2cD3eF4gH5iJ6kL7mN8oP9": "article",
    "ETHEREUM (ETH): 0x52908400098527886E0F7030069857D2E4169EE7": "article",
    "PAYPAL, CREDIT CARD etc: write to info@example.org": "article",
    "Do you like this content? Consider helping us!": "article",
    "If you\u2019re able, and if you like our content and approach, please support the project. "
    "Our work wouldn\u2019t be possible without your help: PayPal: a@example.org": "article",
    "More on this topic:": "article",
    "By Anna Berg and Jon Dahl": "article",
    "By J. Smith": "article",
    "Posted on by editor": "article",
    "Posted in Middle East": "article",
    "Source: a news agency": "article",
    "Share it:": "article",
    "Share this article:": "article",
    "Loading Facebook Comments ...": "article",
    "Loading Comments\u2026": "article",
    "Notify of": "widget",
    "Sort by:   newest | oldest | most voted": "widget",
    "Newest Most Voted": "widget",
    "Oldest Newest Most Voted": "widget",
    "Inline Feedbacks": "widget",
    "View all comments": "widget",
    "Load More Comments": "widget",
    "Would love your thoughts, please comment.x": "widget",
    "12 thoughts on \u201cFerry Fares Rise\u201d": "section",
    "One Response to Ferry Fares Rise": "section",
    "No Comments": "section",
    "3 Comments": "section",
    "Comments (4)": "section",
    "Readers' comments (12)": "section",
    "Reader comments": "section",
    "Visitor responses": "section",
    "Comments are closed.": "form",
    "Leave a Reply": "form",
    "Leave a Comment": "form",
    "Leave a Reply to Alice Cancel reply": "form",
    "Your email address will not be published. Required fields are marked *": "form",
    "You must be logged in to post a comment.": "form",
    "This is a Civil Place for Public Conversation": "form",
    "Please treat this conversation with the same respect you would a public forum. We are "
    "a global community.": "form",
    "These are not hard and fast rules, merely guidelines to keep this a civil place.": "form",
    "Help us make this a great place for conversation by always trying to improve it.": "form",
    "The comments posted here belong to us, and we want you to feel as if they belong to you, "
    "too. Be considerate.": "form",
    "Our goal is to create a safe and engaging place for users to connect over interests and "
    "passions. In order to improve our community, we are suspending article comments": "form",
    "12 May 2021": "date",
    "May 12, 2021 at 10:15 am": "date",
    "3 hours ago": "date",
}
# Prose that opens like chrome, past the length a chrome pattern allows.
PROSE_LIKE_CHROME = [
    *NOT_CHROME,
    "Written by hand, the letter reached the mayor on Monday and he read it aloud.",
    "Posted in a hurry, the notice was torn down within the hour by the people at the pier.",
    "Source: the ministry said on Monday that the fighting had stopped.",
    "Bitcoin miners in the north of the country were told on Monday: stop.",
    "By Train From Paris To Berlin In One Day",
]


def _known_kind(line: str) -> str | None:
    """The kind of known chrome the rules make of `line` in the middle of an article."""
    _, known = prepared_page(f"Ferry Fares Rise\n\nFares go up in May.\n\n{line}\n\nThey met.\n")
    return known.get(4)


@pytest.mark.parametrize(("line", "kind"), KNOWN_CHROME.items(), ids=list(KNOWN_CHROME))
def test_each_known_chrome_line_is_chrome_of_its_kind(line: str, kind: str) -> None:
    assert _known_kind(line) == kind


def test_the_header_and_the_links_under_more_on_this_topic_are_known_chrome() -> None:
    page, known = prepared_page(
        "5,000 $\nMAY 2021\n\nFerry Fares Rise\n\nFares go up in May.\n\n"
        "More on this topic:\n1. Ferry fares rose last year\n2) The pier reopens\n\n"
        "Notify of\n"
    )

    assert known == {
        0: "header",
        1: "header",
        7: "article",
        8: "related",
        9: "related",
        11: "widget",
    }
    assert page.roles == [
        "header",
        "header",
        "blank",
        None,
        "blank",
        None,
        "blank",
        "chrome",
        "chrome",
        "chrome",
        "blank",
        "chrome",
        "blank",
    ]
    assert page.crawl_month == date(2021, 5, 1)


@pytest.mark.parametrize("line", PROSE_LIKE_CHROME)
def test_prose_that_opens_like_chrome_is_not_known_chrome(line: str) -> None:
    assert _known_kind(line) is None


@pytest.mark.parametrize(
    ("line", "name"),
    [
        ("1. Alice Moor says:", "Alice Moor"),
        ("12) Alice Moor says", "Alice Moor"),
        ("Alice Moor  says:", "Alice Moor"),
        ("\u2022 Bob Ray", "Bob Ray"),
        ("\u25aa Bob Ray", "Bob Ray"),
        ("3. Bob Ray", "Bob Ray"),
        ("#2 \u2014 posted by Kirsten on 14.05.2024, 08:03", "Kirsten"),
        ("Posted by Kirsten", "Kirsten"),
        ("Avatar Alice Moor", "Alice Moor"),
        ("avatar  Alice Moor", "Alice Moor"),
        ("#12 Alice Moor", "Alice Moor"),
        ("Alice Moor 12.05.2021", "Alice Moor"),
        ("Alice Moor (12/05/21)", "Alice Moor"),
        ("Alice Moor | 3 hours ago", "Alice Moor"),
        ("Alice Moor \u00b7 Reply", "Alice Moor"),
        (
            "One two three four five six seven eight says:",
            "One two three four five six seven eight",
        ),
        # Past eight words it is a sentence that ends in `says:`, not a name.
        (
            "One two three four five six seven eight nine says:",
            "One two three four five six seven eight nine says:",
        ),
        ("says:", "says:"),
    ],
)
def test_author_name_drops_numbers_bullets_says_avatars_and_time_stamps(
    line: str, name: str
) -> None:
    assert author_name(line) == name


@pytest.mark.parametrize(
    ("line", "chrome"),
    [
        ("Reply", True),
        ("REPLY", True),
        ("Reply.", True),
        ("Load more comments", True),
        ("Alice Moor \u00b7 Berlin", True),  # a separator
        ("12 Alice Moor", True),  # a count
        ("Posted 3 days ago by editor", True),  # six words
        ("Posted 3 days ago by the editor", False),  # seven words
        ("Alice Moor", False),
        ("Quiet.", False),
        ("Reply to the mayor", False),
        # A link's digits are no count.
        ("See this https://x.com/ann/status/1274298847968268288?s=21", False),
        ("Read www.port.org/2024/05", False),
    ],
)
def test_looks_like_chrome_takes_short_lines_of_counts_separators_or_widget_words(
    line: str, chrome: bool
) -> None:
    assert looks_like_chrome(line) is chrome


@pytest.mark.parametrize(
    ("line", "prose"),
    [
        ("The ferry left at dawn today.", True),  # six words and a full stop
        ("Did the ferry leave at dawn?", True),
        ("The ferry left at dawn today", False),  # no sentence end
        ("The ferry left at dawn.", False),  # five words
        ("Stop.", False),
    ],
)
def test_reads_like_prose_takes_sentences_of_six_words_or_more(line: str, prose: bool) -> None:
    assert reads_like_prose(line) is prose


# The rules that correct the labeller's line labels (T title, B body, X chrome, A author,
# S a comment's first line without an author, C further comment text), each on the labels
# of a short page, one label per non-blank line.


Rule = Callable[[dict[int, str], parse._Page], dict[int, str]]


def _labels_after(rule: Rule, text: str, labels: str) -> str:
    page = parse._Page(text)
    given = dict(zip(page.content(), labels.split(), strict=True))
    return " ".join(label for _, label in sorted(rule(given, page).items()))


def _without_known_chrome(rule: Callable[..., dict[int, str]]) -> Rule:
    """`rule` on a page where no line is known chrome."""
    return lambda labels, page: rule(labels, {}, page)


def _with_known_chrome(rule: Callable[..., dict[int, str]], text: str) -> Rule:
    """`rule` on `text`, with the lines the known chrome patterns name."""
    _, known = parse.prepared_page(text)
    return lambda labels, page: rule(labels, known, page)


def _labels_only(rule: Callable[[dict[int, str]], dict[int, str]]) -> Rule:
    return lambda labels, page: rule(labels)


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Two blank lines or more open a new comment; one, or none, does not.
        (
            "Good news.\n\n\nNine days.\nThen two.\n\n\n\nThird.\n\nStill third.",
            "S C C C C",
            "S S C S C",
        ),
        # An author line's text may sit below a wide gap: it is still that author's.
        ("Ines Duarte\n\n\nThe photographs are clear.", "A C", "A C"),
        # Only comment text is split: a wide gap above body text changes nothing.
        ("A body line.\n\n\nAnother body line.", "B B", "B B"),
    ],
    ids=["two-blank-lines-apart", "author-above-a-wide-gap", "body-untouched"],
)
def test_a_wide_gap_opens_a_new_comment(text: str, labels: str, expected: str) -> None:
    assert _labels_after(_labels_only(parse._with_comment_per_wide_gap), text, labels) == expected


LONG_PARAGRAPH = (
    "The harbour authority approved the second container terminal on Thursday, a project the "
    "port has sought for eleven years, and said the works would begin in the spring."
)


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # A short last paragraph above an authored thread is its first comment.
        (
            f"Terminal Approved\n\n{LONG_PARAGRAPH}\n\nFinally.\n\nAnn Lee\n\nAbout time.",
            "T B B A C",
            "T B S A C",
        ),
        # A name-like line among the short lines is the author of the text below it.
        (
            f"{LONG_PARAGRAPH}\n\nFinally.\n\nIra K\n\nAbout time too.\n\nAnn Lee\n\nYes.",
            "B B X B A C",
            "B S A C A C",
        ),
        # A last paragraph as long as the body's stays the body's.
        (
            f"{LONG_PARAGRAPH}\n\n{LONG_PARAGRAPH}\n\nAnn Lee\n\nAbout time.",
            "B B A C",
            "B B A C",
        ),
        # A thread that opens with a comment without author line has its first comment.
        (
            f"{LONG_PARAGRAPH}\n\nFinally.\n\nAbout time.\n\nAnn Lee\n\nYes.",
            "B B S A C",
            "B B S A C",
        ),
    ],
    ids=[
        "short-last-paragraph",
        "name-among-them",
        "long-last-paragraph",
        "thread-opens-authorless",
    ],
)
def test_a_short_first_comment_above_the_thread_leaves_the_body(
    text: str, labels: str, expected: str
) -> None:
    rule = _without_known_chrome(parse._with_short_first_comment_above_the_thread)
    assert _labels_after(rule, text, labels) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Each stamp right above comment text opens a comment; the prose above the first
        # stamp, which the labeller called chrome, is the comment before it.
        (
            f"{LONG_PARAGRAPH}\n\nWell done, crews! The new terminal will help us all.\n\n"
            "2020-01-28 20:23\nGreat news for the town.\n\n2020-01-28 20:24\nAbout time.",
            "B X X S X C",
            "B S X S X S",
        ),
        # A stamp under an author line is that author's: the text under it stays theirs.
        (
            f"{LONG_PARAGRAPH}\n\nAnn Lee\n2020-01-28 20:23\nGreat news.\n\n"
            "Ira K\n2020-01-28 20:24\nAbout time.",
            "B A X C A X C",
            "B A X C A X C",
        ),
        # A stamp with nothing under it opens nothing.
        (f"{LONG_PARAGRAPH}\n\n2020-01-28 20:23\n\nSee also the map.", "B X X", "B X X"),
    ],
    ids=["stamped-comments", "stamp-under-an-author", "stamp-alone"],
)
def test_a_time_stamp_above_comment_text_opens_a_comment(
    text: str, labels: str, expected: str
) -> None:
    rule = _with_known_chrome(parse._with_comment_under_each_stamp, text)
    assert _labels_after(rule, text, labels) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Items numbered from 1 under the body are the body's, up to the comments.
        (
            "Eight reasons the talks failed, in short.\n\n1: The ports stay closed\n\n"
            "2: No deal on fares\n\n3. A new union\n\n3 thoughts on “Talks”\n\n1. Yes.",
            "B X B X X S",
            "B B B B X S",
        ),
        # Two items are not a list; items not under the body (a list at the top) stand.
        ("The talks failed.\n\n1: The ports\n\n2: The fares", "B X X", "B X X"),
        ("1: The ports\n\n2: The fares\n\n3: The union\n\nThe talks.", "X X X B", "X X X B"),
        # Numbers out of order are no list.
        ("The talks failed.\n\n1: Ports\n\n3: Fares\n\n2: Union", "B X X X", "B X X X"),
    ],
    ids=["three-items", "two-items", "above-the-body", "out-of-order"],
)
def test_a_numbered_list_under_the_body_is_the_body_s(
    text: str, labels: str, expected: str
) -> None:
    rule = _without_known_chrome(parse._with_numbered_list_in_body)
    assert _labels_after(rule, text, labels) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        ("The harbour opened.\n\nThe US-back", "B X", "B B"),
        ("Ann Lee\n\nGood.\n\nBut the ferry", "A C X", "A C C"),
        # Chrome words, a closed sentence, one word, or a line far below stay chrome.
        ("The harbour opened.\n\nShare this", "B X", "B X"),
        ("The harbour opened.\n\nAll rights reserved.", "B X", "B X"),
        ("The harbour opened.\n\nLerupoleno", "B X", "B X"),
        ("The harbour opened.\n\n\n\nThe US-back", "B X", "B X"),
    ],
    ids=["body", "comment", "chrome-words", "sentence", "one-word", "far-below"],
)
def test_a_page_cut_off_mid_paragraph_keeps_its_last_words(
    text: str, labels: str, expected: str
) -> None:
    rule = _without_known_chrome(parse._with_cut_off_last_line)
    assert _labels_after(rule, text, labels) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Under two paragraphs of body, one opening in small letters opens the comments.
        (
            "The port opened.\n\nShips came.\n\nyes finally\n\nAbout time.",
            "B B B B",
            "B B S S",
        ),
        # Not under a closed sentence (a paragraph broken mid-sentence), a word such as
        # `eBay`, one body paragraph above, only one paragraph left, single line breaks, or
        # a page with comments already: the labeller's word stands.
        ("The port opened.\n\nShips came to\n\nyes finally\n\nAbout.", *["B B B B"] * 2),
        ("The port opened.\n\nShips came.\n\neBay sold it.\n\nAbout.", *["B B B B"] * 2),
        ("The port opened.\n\nyes finally\n\nAbout time.", *["B B B"] * 2),
        ("The port opened.\n\nShips came.\n\nyes finally", *["B B B"] * 2),
        ("The port opened.\nShips came.\nyes finally\nAbout time.", *["B B B B"] * 2),
        ("The port opened.\n\nShips came.\n\nyes finally\n\nAnn", *["B B B A"] * 2),
    ],
    ids=["comments", "mid-sentence", "ebay", "one-above", "one-below", "single-breaks", "thread"],
)
def test_paragraphs_from_one_in_small_letters_under_the_body_are_comments(
    text: str, labels: str, expected: str
) -> None:
    assert _labels_after(parse._with_lower_case_comments_under_the_body, text, labels) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Right under the widget, above text after one blank line: an author line.
        ("Body.\n\nView all comments\nYou can call me Da\n\nGood.", "B X S C", "B X A C"),
        # Below a blank line, a closed sentence, a long line, or no text under it: as given.
        ("Body.\n\nView all comments\n\nYou can call me\n\nGood.", *["B X S S"] * 2),
        ("Body.\n\nView all comments\nCall me Da.\n\nGood.", *["B X S C"] * 2),
        (
            "Body.\n\nView all comments\nYou can call me whatever you like, friend\n\nGood.",
            *["B X S C"] * 2,
        ),
        ("Body.\n\nView all comments\nYou can call me Da\nGood.", *["B X S C"] * 2),
    ],
    ids=["author", "below-a-blank", "sentence", "long", "no-blank-under"],
)
def test_a_short_line_right_under_the_widget_is_an_author_line(
    text: str, labels: str, expected: str
) -> None:
    rule = _with_known_chrome(parse._with_author_right_under_the_widget, text)
    assert _labels_after(rule, text, labels) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # The text under an author line is the author's, whether the labeller called it
        # chrome or a comment of its own; past a time stamp too.
        ("Body.\n\nAnn Lee\n\nQuiet.", "B A X", "B A C"),
        ("Body.\n\nAnn Lee\n\nGood point.\n\nAnd more.", "B A S C", "B A C C"),
        ("Body.\n\nAnn Lee\n2020-01-28\nGood point.", "B A X S", "B A X C"),
        # Below a wider gap, a comment without an author stands.
        ("Body.\n\nAnn Lee\n\n\n\nGood point.", "B A S", "B A S"),
    ],
    ids=["chrome", "comment", "past-a-stamp", "wide-gap"],
)
def test_the_text_under_an_author_line_is_the_author_s(
    text: str, labels: str, expected: str
) -> None:
    rule = _with_known_chrome(parse._with_text_under_each_author, text)
    assert _labels_after(rule, text, labels) == expected


FORUM_POST = (
    "#12 Ann Lee\n\nMember\n\n  • 80 posts\n\nPosted 3 May 2024 - 09:12 AM\n\n"
    "The port said so.\n\nFine by me.\n\n  • Ira likes this"
)


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # The poster's title and details are chrome, the post is the header's, and the
        # bullets closing it are chrome.
        (FORUM_POST, "B C C X S B C", "A X X X C C X"),
        (
            f"{FORUM_POST}\n\n#13 Ira\n\nPosted 3 May 2024\n\nNo.",
            "B C C X S B C A X S",
            "A X X X C C X A X C",
        ),
        # A header with no `Posted` line under it, or a post with nothing in it, stands.
        ("#12 Ann Lee\n\nMember\n\nThe port said so.", "A S C", "A S C"),
        ("#12 Ann Lee\n\nPosted 3 May 2024\n\n  • Ira likes this", "A X C", "A X X"),
    ],
    ids=["post", "two-posts", "no-stamp", "empty-post"],
)
def test_a_forum_post_is_its_header_s(text: str, labels: str, expected: str) -> None:
    rule = _with_known_chrome(parse._with_forum_posts, text)
    assert _labels_after(rule, text, labels) == expected


# A mirror page's brief: one paragraph of sentences.
BRIEF = f"{LONG_PARAGRAPH} Work on the road starts first."


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # A brief, then lines that talk: each a comment.
        (f"{BRIEF}\nWhere is the money?\nThe port said so.", "B B B", "B S S"),
        # The same where the labeller guessed comments of its own.
        (f"{BRIEF}\nWhere is the money?\nThe port said so.", "S C S", "B S S"),
        (f"{BRIEF}\nwell done..\nAbout time.", "B B B", "B S S"),
        (f"{BRIEF}\nThey won't build it.\nNo.", "B B B", "B S S"),
        # The brief shown twice: the second is a preview, chrome.
        (f"{BRIEF}\n{BRIEF}\nI saw it.\nGood.", "B B B B", "B X S S"),
        # A report under the brief, a quote, too few lines, blank lines, a title, no
        # sentences atop: the labeller's word stands.
        (f"{BRIEF}\nThe works begin in May.\nYes.", "B B B", "B B B"),
        (f"{BRIEF}\n“We are ready,” he said.\nYes.", "B B B", "B B B"),
        (f"{BRIEF}\nWhere is the money?", "B B", "B B"),
        (f"{BRIEF}\n\nWhere is the money?\n\nNo.", "B B B", "B B B"),
        (f"Port Approved\n{BRIEF}\nI saw it.\nGood.", "T B B B", "T B B B"),
        ("Port approved\nWhere is the money?\nI saw it.", "B B B", "B B B"),
        # `US` is a country, not `us`.
        (f"{BRIEF}\nThe US navy left.\nSo.", "B B B", "B B B"),
    ],
    ids=[
        "question",
        "guessed",
        "ellipsis",
        "contraction",
        "brief-twice",
        "report",
        "quote",
        "one-line",
        "blank-lines",
        "title",
        "no-sentences",
        "US",
    ],
)
def test_bare_lines_that_talk_under_a_brief_are_comments(
    text: str, labels: str, expected: str
) -> None:
    rule = _without_known_chrome(parse._with_talk_under_a_brief)
    assert _labels_after(rule, text, labels) == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # A blog post: the labeller took its title for an author and its first paragraph
        # for a comment, above the rest of the body.
        (
            "Harbour Notes\n\nTerminal Approved At Last\n\nSomething is going on.\n\n"
            "The port said so.\n\nWorks begin in spring.\n\nNobody objected.",
            "T A S B B B",
            "T X B B B B",
        ),
        # Under comment chrome, or above a shorter body, the comment stands.
        (
            "Terminal Approved\n\n2 Comments\n\nAnn Lee\n\nGood.\n\nThe port said so.",
            "T X A C B",
            "T X A C B",
        ),
        ("Ann Lee\n\nGood.\n\nYes.\n\nThe port said so.", "A C C B", "A C C B"),
    ],
    ids=["blog-post", "under-a-section-header", "body-shorter"],
)
def test_a_comment_above_all_of_the_body_is_the_body_s_opening(
    text: str, labels: str, expected: str
) -> None:
    rule = _with_known_chrome(parse._without_comments_atop_the_body, text)
    assert _labels_after(rule, text, labels) == expected


@pytest.mark.parametrize(
    ("count", "expected"),
    [("0 Comments", "B X X X"), ("Comments (0)", "B X X X"), ("2 Comments", "B X A C")],
    ids=["zero", "zero-in-brackets", "two"],
)
def test_comments_under_a_zero_count_are_chrome(count: str, expected: str) -> None:
    def rule(labels: dict[int, str], page: parse._Page) -> dict[int, str]:
        return parse._without_comments_under_a_zero_count(labels, {2: "section"}, page)

    assert _labels_after(rule, f"Fares rise.\n\n{count}\n\nguest\nx", "B X A C") == expected


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Above the first bullet, prose is the body and the rest chrome.
        (
            "This map gives a closer look at the ridge on May 3.\n12 Main Street, +49 30 1234\n"
            "  • Halvard\n    The ridge changed hands.\n  • Mira\n    Old road.",
            "S S A C A C",
            "B X A C A C",
        ),
        # Numbered and `says:` threads mark their comments too.
        (
            "It was a quiet day on the river for the ferry crews.\n1. The ferry was late.",
            "S S",
            "B S",
        ),
        (
            "It was a quiet day on the river for the ferry crews.\nAnna says:\nNot for me.",
            "C A C",
            "B A C",
        ),
        # Without a marked comment the labels stand.
        (
            "It was a quiet day on the river for the ferry crews.\nHalvard\nThe ridge.",
            "S A C",
            "S A C",
        ),
        # Below the first marked comment, a marked line below a blank line opens a comment
        # and an unmarked line right under comment text goes on with it.
        (
            "It was a quiet day on the river.\n\n1. The ferry was late.\n  It always is.\n\n"
            "  1. Not for me.",
            "B S S C",
            "B S C S",
        ),
        # A marked comment's next paragraph, indented under its text, goes on with it; a
        # marked reply below opens a comment of its own.
        (
            "It was a quiet day on the river.\n\n  1. The ferry was late.\n\n"
            "    It always is in May.\n\n    1. Not for me.",
            "B S S S",
            "B S C S",
        ),
        # Under an author line a marked thread's indented text is the author's, as before.
        (
            "It was a quiet day on the river.\n\n  1. Anna says:\n\n    The ferry was late.",
            "B A S",
            "B A S",
        ),
    ],
    ids=[
        "bullets",
        "numbered",
        "says",
        "unmarked",
        "below-the-first-marked",
        "hanging-paragraph",
        "under-an-author",
    ],
)
def test_comments_above_a_marked_thread_are_the_article(
    text: str, labels: str, expected: str
) -> None:
    assert _labels_after(parse._with_article_above_marked_thread, text, labels) == expected


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ("The head of the agency says it will work with the farmers", "T B B"),
        ("Reports from the valley:", "X B B"),  # introduces a list
        ("The agency will work with the farmers.", "X B B"),  # a sentence
        ("The head of the agency says it will work with the farmers " * 3, "X B B"),  # too long
    ],
    ids=["headline", "colon", "full-stop", "long"],
)
def test_a_headline_like_first_line_above_the_body_is_the_title(
    first_line: str, expected: str
) -> None:
    text = f"{first_line}\n\nThe agency met on Tuesday.\n\nFarmers asked for data."
    assert (
        _labels_after(_without_known_chrome(parse._with_title_above_body), text, "X B B")
        == expected
    )


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Paragraphs one blank line apart, then two: a comment, as a comment follows.
        (
            "One.\n\nTwo.\n\nThree.\n\n\nI doubt it.\nReally.\n\nAnna\nNot me.",
            "B B B B B A C",
            "B B B S C A C",
        ),
        # Nothing follows that is a comment: the body stands.
        ("One.\n\nTwo.\n\nThree.\n\n\nFour.", "B B B B", "B B B B"),
        # Lines between two body lines are no gap, even labelled chrome.
        ("One.\n\nTwo.\n\nCaption\n\nThree.\n\nAnna\nNot me.", "B B X B A C", "B B X B A C"),
        # A page spaced by two blank lines throughout has no wider gap.
        ("One.\n\n\nTwo.\n\n\nThree.\n\n\nAnna\nNot me.", "B B B A C", "B B B A C"),
        # Lines with no blank between, then one: one blank line is a paragraph's, not wider.
        ("One.\nTwo.\nThree.\n\nFour.\n\nAnna\nNot me.", "B B B B A C", "B B B B A C"),
    ],
    ids=["wider-gap", "no-comment-below", "chrome-between", "evenly-spaced", "one-blank-line"],
)
def test_the_body_s_last_lines_below_a_wider_gap_are_a_comment(
    text: str, labels: str, expected: str
) -> None:
    rule = _labels_only(parse._with_comment_below_a_wide_gap_in_the_body)
    assert _labels_after(rule, text, labels) == expected


def test_bullet_author_lines_name_a_commenter_above_deeper_text() -> None:
    page = parse._Page(
        "  • Halvard\n\n    The ridge changed.\n"  # an author: lines 0 and 2
        "  • F\n    An avatar's initial.\n"  # one letter: no name
        "  • The ridge changed hands.\n    Not a name.\n"  # a sentence
        "  • Mira Okafor\n  • Stefan B\n"  # no deeper text below Mira
        "      Good map."  # Stefan's text
    )

    assert parse._bullet_authors(page, page.content()) == {0: 2, 8: 9}


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        ("Kessel Ridge, 3 May 2018", "X B B"),  # a caption
        ("Photo: the ridge seen from the old road to the north of the small village", "X B B"),
        ("The ridge changed hands twice this winter.", "B B B"),  # a sentence
        ("Reports from the valley:", "B B B"),  # introduces what follows
        (" ".join(["word"] * 16), "B B B"),  # too long for a caption
        # A caption of sentences, as long as it likes, that ends in its photo credit.
        (
            "Soldiers of the 3rd Company give fire support during training on Jan. 9, 2018, "
            "at a range in the south. (U.S. Army photo by Sgt. Jo Lee/Released)",
            "X B B",
        ),
        ("Talks resumed at the port on Monday. (Reuters/Jo Lee)", "X B B"),
        ("Talks resumed at the port (and the union) on Monday.", "B B B"),
    ],
    ids=[
        "caption",
        "fifteen-words",
        "sentence",
        "colon",
        "sixteen-words",
        "photo-credit",
        "agency-credit",
        "brackets-mid-sentence",
    ],
)
def test_a_caption_atop_the_body_is_chrome(first_line: str, expected: str) -> None:
    text = f"{first_line}\n\nThe army said so on Monday.\n\nEnd."
    assert _labels_after(parse._without_caption_atop_body, text, "B B B") == expected


def test_the_last_body_line_is_never_taken_for_a_caption() -> None:
    assert _labels_after(parse._without_caption_atop_body, "Kessel Ridge", "B") == "B"


def test_a_title_that_ends_in_a_colon_is_the_body_s_first_line() -> None:
    text = "Reports from the valley:\n- The bridge is open.\n- The road is not."
    assert (
        _labels_after(_without_known_chrome(parse._with_title_above_body), text, "T B B") == "B B B"
    )


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [
        # Nothing but chrome labels: the prose is the body, the rest stays chrome.
        (
            "Berlin, 3 May\nThe bridge over the canal opened again on Monday morning.\nShare",
            "X X X",
            "X B X",
        ),
        # A title and no body: the prose under the title, down to the comments.
        (
            "Bridge Opens\nThe bridge over the canal opened again on Monday morning.\nAnna\nGood.",
            "T X A C",
            "T B A C",
        ),
        # Comments and no title: the page may be comments only, its prose stays as labelled.
        (
            "The bridge over the canal opened again on Monday morning.\nAnna\nGood.",
            "X A C",
            "X A C",
        ),
        # A short sentence is a body too; a word or two ending in a full stop is not.
        ("A New Title\nA new body paragraph.\nShare.", "T X X", "T B X"),
    ],
    ids=["only-chrome", "under-title", "comments-only", "short-sentence"],
)
def test_a_page_without_body_lines_takes_its_prose_for_the_body(
    text: str, labels: str, expected: str
) -> None:
    assert (
        _labels_after(_without_known_chrome(parse._with_body_under_title), text, labels) == expected
    )


def test_a_title_found_by_the_labeller_is_kept_and_a_lone_body_line_is_no_title() -> None:
    assert (
        _labels_after(_without_known_chrome(parse._with_title_above_body), "A\nB\nC", "T X B")
        == "T X B"
    )
    assert (
        _labels_after(_without_known_chrome(parse._with_title_above_body), "One line", "B") == "B"
    )


@pytest.mark.parametrize(
    "path",
    [SEED_000, SEED_002, *(FIXTURE_PAGES / f"{name}.txt" for name in FIXTURE_NAMES)],
    ids=lambda path: path.stem,
)
def test_no_chrome_line_survives_parsing(path: Path) -> None:
    parsed = parse_file(path)
    texts = [parsed.title, parsed.body]
    for comment in parsed.comments:
        texts += [comment.author, comment.body]

    chrome = [
        line
        for text in texts
        if text is not None
        for line in text.split("\n")
        if CHROME.fullmatch(line.strip())
    ]
    assert chrome == []
    # A repeated title is an image caption, never a paragraph of the body.
    assert parsed.title is None or parsed.title not in (parsed.body or "").split("\n")


# Fixture pages: tests/fixtures/pages/<name>.txt with <name>.expected.json beside it


def _cut(text: str | None, like: str | None, *, end: bool = False) -> str | None:
    """`text` cut to the length of the expected piece, so a mismatch shows both in full."""
    if text is None or like is None:
        return text
    return text[len(text) - len(like) :] if end else text[: len(like)]


def test_every_fixture_page_has_its_expected_result() -> None:
    results = FIXTURE_PAGES.glob("*.expected.json")

    assert len(FIXTURE_NAMES) >= 10
    assert sorted(path.name.removesuffix(".expected.json") for path in results) == FIXTURE_NAMES


@pytest.mark.parametrize("name", FIXTURE_NAMES)
def test_fixture_page(name: str) -> None:
    expected = json.loads((FIXTURE_PAGES / f"{name}.expected.json").read_text(encoding="utf-8"))
    expected.pop("family")
    expected.pop("train_labeller", None)
    parsed = parse_file(FIXTURE_PAGES / f"{name}.txt")

    # A comment is [author, opening words] or, in a thread, [author, opening words, depth].
    expected["comments"] = [[*comment, 0][:3] for comment in expected["comments"]]
    openings = [opening for _, opening, _ in expected["comments"]]
    actual = {
        "title": parsed.title,
        "body_starts": _cut(parsed.body, expected["body_starts"]),
        "body_ends": _cut(parsed.body, expected["body_ends"], end=True),
        "crawl_month": parsed.crawl_month.isoformat() if parsed.crawl_month else None,
        "layout": parsed.layout,
        "comments": [
            [
                comment.author,
                _cut(comment.body, openings[index] if index < len(openings) else None),
                comment.depth,
            ]
            for index, comment in enumerate(parsed.comments)
        ],
    }
    assert actual == expected


# parse_pages

ARTICLE_SCHEMA = pl.Schema(
    {
        name: dtype
        for name, dtype in polars_schema("article").items()
        if name not in ("loaded_by_run", "previous_article_id")
    }
)
PAGE_WITH_COMMENTS = """\
MAY 2024

Night Market Returns To The Old Square

Traders set up forty stalls in the old square on Friday for the first night market in years.


Notify of
Inline Feedbacks
View all comments
Anna Berg

Lovely to see the square busy again.

Jon Dahl

The parking was a nightmare though.
"""
PAGE_WITHOUT_COMMENTS = """\
Library Extends Its Opening Hours

The town library will stay open until nine in the evening from next month.
"""
CHROME_ONLY_PAGE = """\
0 $
2,500 $

Support SouthFront


Notify of
Inline Feedbacks
View all comments
Would love your thoughts, please comment.x
"""


REVIEW_COLUMNS = ["unsplit_text", "parse_flags", "parse_confidence"]


def review_columns(parsed: ParsedPage) -> tuple[str | None, str | None, float]:
    """What an article row records of how sure the parser was of a page."""
    return parsed.unsplit, ",".join(parsed.flags) or None, parsed.confidence


def pages_frame(*rows: tuple[str, str, str]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"source_path": pl.String(), "sha256": pl.String(), "text": pl.String()},
        orient="row",
    )


def comments_of(page_text: str) -> list[tuple[str | None, str, str]]:
    """(author, body, comment_id) of every comment on `page_text`, parsed as one page."""
    _, comment, _ = parse_pages(pages_frame(("site/page.txt", "sha", page_text)))
    return comment.select("author", "body", "comment_id").rows()


def test_parse_pages_splits_pages_into_articles_comments_and_rejects() -> None:
    pages = pages_frame(
        ("market.txt", "sha-market", PAGE_WITH_COMMENTS),
        ("library.txt", "sha-library", PAGE_WITHOUT_COMMENTS),
        ("chrome.txt", "sha-chrome", CHROME_ONLY_PAGE),
    )

    article, comment, rejects = parse_pages(pages)

    market_id, library_id = article["article_id"].to_list()
    expected_article = pl.DataFrame(
        {
            "article_id": [market_id, library_id],
            "source": ["", ""],
            "source_path": ["market.txt", "library.txt"],
            "title": [
                "Night Market Returns To The Old Square",
                "Library Extends Its Opening Hours",
            ],
            "body": [
                "Traders set up forty stalls in the old square on Friday for the first night "
                "market in years.",
                "The town library will stay open until nine in the evening from next month.",
            ],
            "crawl_month": [date(2024, 5, 1), None],
            "layout": ["wpdiscuz", "none"],
            "n_comments": [2, 0],
            "sha256": ["sha-market", "sha-library"],
            "parser_version": [PARSER_VERSION] * 2,
        },
        schema={k: v for k, v in ARTICLE_SCHEMA.items() if k not in REVIEW_COLUMNS},
    )
    assert_frame_equal(article.drop(REVIEW_COLUMNS), expected_article)
    assert article.select(REVIEW_COLUMNS).rows() == [
        review_columns(parse_page(PAGE_WITH_COMMENTS)),
        review_columns(parse_page(PAGE_WITHOUT_COMMENTS)),
    ]
    expected_comment = pl.DataFrame(
        {
            "article_id": [market_id, market_id],
            "position": [1, 2],
            "author": ["Anna Berg", "Jon Dahl"],
            "depth": [0, 0],
            "parent_comment_id": [None, None],
            "body": ["Lovely to see the square busy again.", "The parking was a nightmare though."],
        },
        # dq_flags is the data-quality gate's to fill, the marts' columns the load's; not the
        # parser's.
        schema={
            k: v
            for k, v in polars_schema("comment").items()
            if k not in ("comment_id", "dq_flags", "normalised_text", "entities_named")
        },
    )
    assert_frame_equal(comment.drop("comment_id"), expected_comment)
    assert comment["comment_id"].n_unique() == 2
    assert rejects.rows() == [("", "chrome.txt", "sha-chrome", "no_text")]


def test_parse_pages_ids_are_stable_across_calls_and_content_changes() -> None:
    pages = pages_frame(
        ("market.txt", "sha-market", PAGE_WITH_COMMENTS),
        ("library.txt", "sha-library", PAGE_WITHOUT_COMMENTS),
        ("chrome.txt", "sha-chrome", CHROME_ONLY_PAGE),
    )
    edited = pages.with_columns(
        pl.col("text").str.replace("forty stalls", "fifty stalls"), sha256=pl.lit("sha-edited")
    )

    first, second, after_edit = parse_pages(pages), parse_pages(pages), parse_pages(edited)

    for frame_first, frame_second in zip(first, second, strict=True):
        assert_frame_equal(frame_first, frame_second)
    # An article is known by its path; its comments by article, author, text and occurrence.
    assert_frame_equal(first[0].select("article_id"), after_edit[0].select("article_id"))
    assert_frame_equal(first[1].select("comment_id"), after_edit[1].select("comment_id"))


def test_parse_pages_numbers_comments_from_one_on_each_page() -> None:
    pages = pages_frame(
        ("000.txt", "sha-000", SEED_000.read_text(encoding="utf-8")),
        ("market.txt", "sha-market", PAGE_WITH_COMMENTS),
        ("002.txt", "sha-002", SEED_002.read_text(encoding="utf-8")),
    )

    article, comment, _ = parse_pages(pages)

    positions = (
        comment.group_by("article_id", maintain_order=True)
        .agg("position", n=pl.len())
        .join(article.select("article_id", "n_comments"), on="article_id")
    )
    assert positions["n"].to_list() == [30, 2, 14]
    for position, n, n_comments in positions.select("position", "n", "n_comments").rows():
        assert position == list(range(1, n + 1))
        assert n_comments == n
    assert comment["comment_id"].n_unique() == comment.height


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("\n\n   \n\t\n", id="all-blank"),
        pytest.param(CHROME_ONLY_PAGE, id="chrome-only"),
        pytest.param("0 $\n2,500 $\n5,000 $\n100 $\nMARCH 2025\n\n", id="header-only"),
    ],
)
def test_parse_pages_rejects_only_a_page_with_no_text_but_header_and_chrome(text: str) -> None:
    article, comment, rejects = parse_pages(pages_frame(("empty.txt", "sha-empty", text)))

    assert article.is_empty()
    assert comment.is_empty()
    assert rejects.rows() == [("", "empty.txt", "sha-empty", "no_text")]


def test_comment_id_survives_new_comments_above_it() -> None:
    with_new_comments = PAGE_WITH_COMMENTS.replace(
        "Anna Berg\n", "Liv Strand\n\nFirst to comment, as always.\n\nAnna Berg\n"
    ).replace("Jon Dahl\n", "Per Moen\n\nWill it run every Friday?\n\nJon Dahl\n")

    before = comments_of(PAGE_WITH_COMMENTS)
    after = comments_of(with_new_comments)

    assert [author for author, _, _ in after] == ["Liv Strand", "Anna Berg", "Per Moen", "Jon Dahl"]
    assert [after[1], after[3]] == before


def test_same_words_from_one_author_twice_get_two_ids() -> None:
    page = PAGE_WITH_COMMENTS.replace("Jon Dahl", "Anna Berg").replace(
        "The parking was a nightmare though.", "Lovely to see the square busy again."
    )

    comments = comments_of(page)

    assert [(author, body) for author, body, _ in comments] == [
        ("Anna Berg", "Lovely to see the square busy again."),
    ] * 2
    assert comments[0][2] != comments[1][2]


# Threads, cut-off pages and comment sections the parser cannot split

THREAD_PAGE = """\
Bridge Reopens After Repairs

The bridge reopened on Monday.

2 thoughts on “Bridge Reopens After Repairs”

  1. Alice Moor says:

    Finally.

    1. Bob Lane says:

      Agreed.

  2. Carol Dunn says:

    What about the tolls?
"""


def test_parse_pages_links_each_reply_to_the_comment_it_answers() -> None:
    _, comment, _ = parse_pages(pages_frame(("bridge.txt", "sha", THREAD_PAGE)))

    alice, bob, carol = comment.select("comment_id", "depth", "parent_comment_id").rows()
    assert (alice[1], alice[2]) == (0, None)
    assert (bob[1], bob[2]) == (1, alice[0])
    assert (carol[1], carol[2]) == (0, None)


@pytest.mark.parametrize(
    ("cut_after", "kept_authors"),
    [
        pytest.param("  2. Carol Dunn says:\n", ["Alice Moor", "Bob Lane"], id="numbered"),
        pytest.param("Alice Moor\n", ["Alice Moor", "Bob Lane"], id="wpdiscuz"),
    ],
)
def test_an_author_line_cut_off_by_the_crawl_is_kept_as_unsplit_text(
    cut_after: str, kept_authors: list[str]
) -> None:
    wpdiscuz = "Title\n\nBody.\n\n\nNotify of\nAlice Moor\n\nFinally.\n\nBob Lane\n\nAgreed.\n\n"
    page = THREAD_PAGE if cut_after.startswith(" ") else wpdiscuz + cut_after
    page = page[: page.rindex(cut_after) + len(cut_after)]

    parsed = parse_page(page)

    assert [comment.author for comment in parsed.comments] == kept_authors
    assert parsed.unsplit == cut_after.strip()


def test_the_only_comment_cut_off_after_its_author_line_is_kept_as_unsplit_text() -> None:
    parsed = parse_page("Ferry Fares Rise\n\nFares go up in May.\n\nNotify of\nAlice Moor\n")

    assert parsed.comments == []
    assert parsed.unsplit == "Alice Moor"


@pytest.mark.parametrize(
    ("page", "comments", "body_ends"),
    [
        (
            "A Quiet Week At The Council\n\nThe council met once this week.\n\n3 Comments\n\n"
            "Gary\nJune 3, 2021 at 4:05 pm\nBoring.\n\nHilda\nJune 4, 2021 at 9:00 am\nQuiet.\n",
            [("Gary", "Boring."), ("Hilda", "Quiet.")],
            "The council met once this week.",
        ),
        # Talkbacks: a numbered title, then the author line ending in the date, then the text.
        (
            "Port Strike Ends After Two Weeks Of Talks\n\n"
            "Dockers went back to work on Monday after the union accepted the offer.\n\n"
            "The port said the ships waiting at anchor would be unloaded by Friday.\n\n"
            "1. About time\nRuth ,   Ashdod   (03.02.22)\nThe ships waited two weeks.\n"
            "2. what did they get?\nMoshe K.   (03.02.22)\nLess than they asked.\n",
            [("Ruth", "The ships waited two weeks."), ("Moshe K.", "Less than they asked.")],
            "would be unloaded by Friday.",
        ),
    ],
    ids=["time-stamp-lines", "talkbacks"],
)
def test_comments_of_other_sites_are_split_and_their_decoration_dropped(
    page: str, comments: list[tuple[str, str]], body_ends: str
) -> None:
    parsed = parse_page(page)

    assert [(comment.author, comment.body) for comment in parsed.comments] == comments
    assert (parsed.body or "").endswith(body_ends)
    assert parsed.unsplit is None


def test_dated_author_lines_are_authors_and_the_numbered_titles_above_them_chrome() -> None:
    lines = [
        "Port Strike Ends After Two Weeks Of Talks",
        "1. About time",
        "ruth b ,   Ashdod   (03.02.22)",
        "and nobody paid for the lost days.",
        "2. what did they get?",
        "MOSHE   (03.02.22)",
        "Less than they asked.",
    ]
    page, known = parse.prepared_page("\n".join(lines))

    allowed = parse._allowed_by_rules(page, known, page.content())

    assert {index: allowed.get(index) for index in (1, 2, 4, 5)} == {
        1: (parse.L_CHROME,),
        2: (parse.L_AUTHOR,),
        4: (parse.L_CHROME,),
        5: (parse.L_AUTHOR,),
    }
    # The first talkback title opens the thread: the text under its author is a comment, and
    # more of that author's, never a comment without one.
    assert allowed[3] == allowed[6] == (parse.L_AUTHOR, parse.L_MORE)


def test_a_long_line_is_never_an_author_line() -> None:
    long_line = "Also, how do you know that the bridge was not part of the deal? " * 2
    page, known = parse.prepared_page(f"Title\n\nBody.\n\nAnn Lee\n\n{long_line}")

    allowed = parse._allowed_by_rules(page, known, page.content())

    assert parse.L_AUTHOR not in allowed[6]
    assert 4 not in allowed  # a name: whatever the labeller says


def _tagging_without_attributes(lines: int) -> line_model.Tagging:
    """The shipped labeller's tagging of `lines` lines it knows nothing of (no attribute)."""
    model = line_model.load(parse.MODEL_PATH)
    [tagging] = line_model.tag(model, np.zeros((lines, len(model.labels))), [lines])
    return tagging


@pytest.mark.parametrize(("gap", "expected"), [(2, parse.L_MORE), (3, None)])
def test_a_line_too_long_for_an_author_right_under_comment_text_is_more_of_it(
    gap: int, expected: str | None
) -> None:
    allowed = (parse.L_TITLE, parse.L_BODY, parse.L_CHROME, parse.L_START, parse.L_MORE)
    predicted = [parse.L_TITLE, parse.L_BODY, parse.L_START, parse.L_AUTHOR]
    tagging = _tagging_without_attributes(len(predicted))
    label = parse._allowed_label(tagging, predicted, 3, allowed, "Also, how do you know?", gap)
    if expected:
        assert label == expected
    else:
        # Below a wider gap it opens a comment of its own or not, as the labeller weighs it.
        assert label == max(allowed, key=lambda label: tagging.marginal(label, 3))


@pytest.mark.parametrize(("gap", "expected"), [(1, parse.L_MORE), (2, parse.L_MORE), (4, None)])
def test_prose_the_labeller_gave_the_article_right_under_a_thread_s_author_is_the_author_s(
    gap: int, expected: str | None
) -> None:
    allowed = (parse.L_AUTHOR, parse.L_START, parse.L_MORE)
    predicted = [parse.L_TITLE, parse.L_CHROME, parse.L_AUTHOR, parse.L_BODY]
    tagging = _tagging_without_attributes(len(predicted))
    label = parse._allowed_label(tagging, predicted, 3, allowed, "and nobody paid.", gap)
    if expected:
        assert label == expected
    else:
        # Below a wider gap the author line is not its header: the labeller's choice stands.
        assert label == max(allowed, key=lambda label: tagging.marginal(label, 3))


@pytest.mark.parametrize(
    ("line", "author", "text"),
    [
        (
            "Ann Lee | 7 years ago | Reply Good point, well made.",
            "Ann Lee",
            "Good point, well made.",
        ),
        ("Reply | 2 | Edit | Delete Nobody asked them at all.", None, "Nobody asked them at all."),
    ],
    ids=["name-time-button", "buttons-only"],
)
def test_a_comment_header_flattened_into_its_line_is_cut_off(
    line: str, author: str | None, text: str
) -> None:
    page = (
        "Old River Bridge Reopens After Repairs\n\n"
        "The bridge reopened on Friday after eight months of repairs to its deck.\n\n"
        "Buses will use it again from Monday, the city said.\n\n"
        f"Comments (1)\n\n{line}\n"
    )

    parsed = parse_page(page)

    assert [(comment.author, comment.body) for comment in parsed.comments] == [(author, text)]
    assert (parsed.body or "").endswith("the city said.")


def test_a_line_that_merely_contains_separators_keeps_its_text() -> None:
    line = "Prices rose in May | June | July, the office said in its report."
    parsed = parse_page(f"Prices Rise\n\n{line}\n\nThe office expects a slower rise.\n")

    assert parsed.comments == []
    assert line in (parsed.body or "")


def test_a_zero_comment_count_means_no_comments() -> None:
    page = (
        "Ferry Fares Rise\n\nFares go up in May.\n\nNotify of\nguest\n0 Comments\n"
        "Inline Feedbacks\nView all comments\n0\n"
        "Would love your thoughts, please comment.x\n()\nx\n"
    )

    parsed = parse_page(page)

    assert parsed.comments == []
    assert parsed.layout == "unknown"


@pytest.mark.parametrize(
    ("first_line", "title"),
    [
        ("Talks Fail. Army Moves In", "Talks Fail. Army Moves In"),
        ("Another winter, another shortage. The shelves are empty again", None),
    ],
    ids=["headline-of-two-sentences", "sentences-of-prose"],
)
def test_a_first_line_of_prose_sentences_is_the_body_not_the_title(
    first_line: str, title: str | None
) -> None:
    page = f"{first_line}\n\nThe ministry blamed a late shipment.\n\nStocks return next week.\n"

    parsed = parse_page(page)

    assert parsed.title == title
    assert (parsed.body or "").startswith(first_line if title is None else "The ministry")


# The comment section of PAGE_WITH_COMMENTS alone.
COMMENTS_ONLY_PAGE = PAGE_WITH_COMMENTS[PAGE_WITH_COMMENTS.index("Notify of") :]
# A WordPress comment section of author-less comments and nothing else.
UNSPLIT_ONLY_PAGE = """\
3 thoughts on “Harbour Crane Collapses”

The crane was old, everyone knew it.

Lucky nobody was under it at the time.

Who pays for the repairs now?

Comments are closed.
"""


def test_a_page_with_text_is_never_rejected_and_keeps_every_sentence() -> None:
    texts = {"comments.txt": COMMENTS_ONLY_PAGE, "unsplit.txt": UNSPLIT_ONLY_PAGE}

    article, comment, rejects = parse_pages(
        pages_frame(*((path, f"sha-{path}", text) for path, text in texts.items()))
    )

    assert rejects.is_empty()
    assert article["source_path"].to_list() == list(texts)
    for row in article.iter_rows(named=True):
        text = texts[row["source_path"]]
        assert (row["unsplit_text"], row["parse_flags"], row["parse_confidence"]) == (
            review_columns(parse_page(text))
        )
        comments = comment.filter(pl.col("article_id") == row["article_id"])["body"].to_list()
        kept = " ".join(filter(None, [row["title"], row["body"], row["unsplit_text"], *comments]))
        sentences = [line for line in text.splitlines() if line.endswith((".", "?"))]
        assert [line for line in sentences if line not in kept and not CHROME.fullmatch(line)] == []
    # A page of only comments: an article with no title or body, and its comments.
    comments_only = article.filter(pl.col("source_path") == "comments.txt")
    assert comments_only.select("title", "body", "n_comments").rows() == [(None, None, 2)]


def test_parse_pages_on_worker_processes_gives_the_same_frames() -> None:
    texts = [SEED_000.read_text(encoding="utf-8"), THREAD_PAGE, PAGE_WITHOUT_COMMENTS, ""]
    pages = pages_frame(*((f"{i}.txt", f"sha-{i}", texts[i % 4]) for i in range(100)))

    with worker_pool(2) as pool:
        on_workers = parse_pages(pages, pool)
    in_process = parse_pages(pages)

    assert pool is not None
    for frame_on_workers, frame_in_process in zip(on_workers, in_process, strict=True):
        assert_frame_equal(frame_on_workers, frame_in_process)
    assert on_workers[2].height == 25


@pytest.mark.parametrize(
    ("parts", "other"),
    [
        pytest.param(("a\x1fb", "c"), ("a", "b\x1fc"), id="separator-inside-a-part"),
        pytest.param((None, "text"), ("", "text"), id="no-author-vs-empty-author"),
        pytest.param(("a\\", "\x1fb"), ("a\\\x1f", "b"), id="escape-then-separator"),
        pytest.param(("a\\s", "b"), ("a\x1f", "b"), id="escaped-separator-vs-its-escape"),
        pytest.param(("\\e",), ("",), id="escaped-empty-vs-empty"),
    ],
)
def test_stable_ids_of_different_parts_differ(parts: tuple, other: tuple) -> None:
    from flows.parse import stable_id

    assert stable_id(*parts) != stable_id(*other)


def test_comment_ids_stay_unique_with_control_characters_in_the_text() -> None:
    from flows.parse import Comment, _comment_rows

    # Ids were once the parts joined by a unit separator (\x1f): a page could shift text
    # from the author into the body across one and give two comments one id.
    comments = [Comment("Anna Berg", ["A\x1fB"]), Comment("Anna Berg\x1fA", ["B"])]

    rows = _comment_rows("article", comments)

    assert len({row["comment_id"] for row in rows}) == 2


@pytest.mark.parametrize(
    "blank",
    [
        pytest.param("\u200b", id="zero-width-space"),
        pytest.param("\ufeff", id="byte-order-mark"),
        pytest.param("\u200b \ufeff \u200b", id="spaces-and-invisibles-mixed"),
        pytest.param("\u00a0\u2060\u00a0", id="no-break-spaces-and-word-joiner"),
    ],
)
def test_lines_of_only_invisible_characters_are_blank(blank: str) -> None:
    invisible = "\n".join(line or blank for line in PAGE_WITH_COMMENTS.split("\n"))

    parsed, plain = parse_page(invisible), parse_page(PAGE_WITH_COMMENTS)

    assert parsed.title == plain.title == "Night Market Returns To The Old Square"
    assert [(c.author, c.body) for c in parsed.comments] == [
        (c.author, c.body) for c in plain.comments
    ]
    assert len(parsed.comments) == 2


def test_a_page_over_its_time_budget_is_set_aside_and_the_others_parse(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # About 4 MB of paragraphs: a second or more to parse, far over a budget of a fifth of a
    # second, while the small pages take milliseconds each. Without the batch's slack per page
    # (half a second each), the batch's budget does not depend on how fast this machine is.
    monkeypatch.setattr(parse, "_BUDGET_PER_PAGE", 0.0)
    paragraph = "The council met on Friday and talked about the harbour fees for boats."
    huge = "Harbour Fees\n\n" + "\n\n\n".join([paragraph] * 50_000) + "\n"
    pages = pages_frame(
        ("market.txt", "sha-market", PAGE_WITH_COMMENTS),
        ("huge.txt", "sha-huge", huge),
        ("library.txt", "sha-library", PAGE_WITHOUT_COMMENTS),
    )

    article, comment, rejects = parse_pages(pages, timeout=0.2)

    assert rejects.rows() == [("", "huge.txt", "sha-huge", "parse_timeout")]
    assert article["source_path"].to_list() == ["market.txt", "library.txt"]
    assert comment.height == 2
    assert_frame_equal(article, parse_pages(pages.filter(pl.col("sha256") != "sha-huge"))[0])


def test_a_batch_parsed_beside_the_flow_keeps_its_time_budget() -> None:
    # The interval timer binds only in a main thread: a batch parsed ahead, in a thread beside
    # the flow, goes to the worker processes even when it is too small to be worth it. About
    # 16 MB of paragraphs take seconds to parse, far over the 0.7 s a one-page chunk gets.
    paragraph = "The council met on Friday and talked about the harbour fees for boats."
    huge = "Harbour Fees\n\n" + "\n\n\n".join([paragraph] * 200_000) + "\n"
    pages = pages_frame(
        ("market.txt", "sha-market", PAGE_WITH_COMMENTS), ("huge.txt", "sha-huge", huge)
    )

    with worker_pool(2) as pool, ThreadPoolExecutor(1) as beside:
        article, _, rejects = beside.submit(parse_pages, pages, pool, 0.2).result()

    assert rejects.rows() == [("", "huge.txt", "sha-huge", "parse_timeout")]
    assert article["source_path"].to_list() == ["market.txt"]
