"""Shape features of each line of a page, for the line labeller in flows/parse.py."""

import re
from collections import Counter

# Line labels the model gives: title, body, chrome (anything of the site: bylines, dates,
# captions, widgets, reply buttons), a commenter's author line, the first line of a comment
# shown without an author line, and any further line of comment text.
TITLE, BODY, CHROME, AUTHOR, START, MORE = "T", "B", "X", "A", "S", "C"
LABELS = (TITLE, BODY, CHROME, AUTHOR, START, MORE)

# Words whose identity is a cue: widget and reply-form vocabulary, time words and the
# commonest function words. Only these words are seen as words; every other word is seen by
# its shape alone, so the features read the same on any site and in any prose.
CUE_WORDS = frozenset(
    """
    reply replies like likes share shares report flag loading load more comment comments
    subscribe follow posted by on source sources tags tag related read click see leave log
    login logged sign up email print avatar says said wrote ago hour hours minute minutes
    day days week weeks month months year years edited permalink quote view all newest
    oldest voted votes notify of anonymous guest member joined posts rank admin moderator
    facebook twitter telegram save copy link home menu search next previous back top
    advertisement photo image video map file illustrative credit written editor editorial
    author published updated cancel required fields name website submit post thoughts
    thought responses response one no be first to at this it is the a an and in for with
    that was are or not you your we our i he she they his her their my me us from as have
    has had will would can could should what who which when where why how but if so do does
    did just also about than then there here out new now today yesterday am pm monday
    tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december mr mrs ms dr
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
# Function words: prose has many of them, names, headlines and chrome few.
_FUNCTION_WORDS = frozenset(
    """
    the a an and of to in for with that was are is it on as by at from this be not or have
    has had will would can could should but if so do does did they he she we you i his her
    their its our your my who which what when there than then also just been were into about
    more all one no out up
    """.split()  # noqa: SIM905 (a word list reads best as words)
)
_FIRST_PERSON = frozenset(["i", "me", "my", "we", "us", "our", "i'm", "i've"])
_SECOND_PERSON = frozenset(["you", "your", "you're"])
# A comma or full stop with no space after it, between letters (`gone,i think`).
_TIGHT_PUNCTUATION = re.compile(r"[a-z][,.][a-z]")
# Characters of a line that word and pattern features read.
_SAMPLE_CHARS = 200
_DIGIT = re.compile(r"\d")
_SENTENCE_BREAK = re.compile(r"[.!?] [A-Z\"\u201c]")
_MONTH = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\b", re.IGNORECASE
)
_NUMERIC_DATE = re.compile(r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b")
_TIME = re.compile(r"\b\d{1,2}:\d\d\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_URL = re.compile(r"https?://|www\.|\b\S+\.(?:com|org|net|press|info|ru|ua|sy)\b|@\S+\.\S")
_NUMBERED = re.compile(r"\d{1,4}[.)] ")
_SAYS = re.compile(r"\bsays:?$|\bwrote:$|\bsaid:$")
_BULLET = "•·*-\u2013\u2014▪►"
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")


def _bucket(value: int, bounds: tuple[int, ...]) -> str:
    for bound in bounds:
        if value <= bound:
            return str(bound)
    return f">{bounds[-1]}"


def _char_class(char: str) -> str:
    if char.isupper():
        return "U"
    if char.islower():
        return "l"
    if char.isdigit():
        return "9"
    if char in _BULLET:
        return "•"
    if char in "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb":
        return "q"
    if char in "([{":
        return "("
    return char if char in ".!?:;,)]…$#@|" else "o"


def line_shape(line: str, raw: str) -> dict[str, float | str]:
    """Features of one non-blank line on its own (stripped `line`, `raw` as crawled).

    Word and pattern features read the start of a long line only: a paragraph shows its
    nature in its first sentences, and reading it whole would cost most of the parse.
    """
    words = line.split()
    sample = line[:_SAMPLE_CHARS]
    tokens = _WORD.findall(sample)
    lower = [token.lower() for token in tokens]
    n_words = len(words)
    long_words = [token for token in tokens if len(token) >= 4 and token[0].isalpha()]
    capitalised = sum(token[0].isupper() for token in long_words)
    caps_share = capitalised / len(long_words) if long_words else 0.0
    function_share = sum(word in _FUNCTION_WORDS for word in lower) / max(len(lower), 1)
    indent = len(raw.expandtabs(4)) - len(raw.expandtabs(4).lstrip())
    features: dict[str, float | str] = {
        "len": _bucket(len(line), (3, 10, 25, 45, 70, 110, 200, 400)),
        "words": _bucket(n_words, (1, 2, 3, 5, 8, 14, 25, 50)),
        "first": _char_class(line[0]),
        "last": _char_class(line[-1]),
        "indent": _bucket(indent, (0, 1, 3, 5, 7)),
        "caps": _bucket(round(caps_share * 4), (0, 1, 2, 3, 4)),
        "func": _bucket(round(function_share * 10), (0, 1, 2, 3, 4, 5)),
    }
    if words:
        first = words[0].lower().strip(":,.")
        last = words[-1].lower().strip(":,.")
        if first in CUE_WORDS:
            features["w0"] = first
        if last in CUE_WORDS:
            features["w-1"] = last
        if n_words <= 4 and all(word in CUE_WORDS for word in lower):
            features["cue_line"] = " ".join(lower)
    flags = {
        "month": bool(_MONTH.search(sample)),
        "num_date": bool(_NUMERIC_DATE.search(sample)),
        "time": bool(_TIME.search(sample)),
        "year": bool(_YEAR.search(sample)),
        "digits": bool(_DIGIT.search(sample)),
        "url": bool(_URL.search(sample)),
        "numbered": bool(_NUMBERED.match(line)),
        "says": bool(_SAYS.search(line[-12:])),
        "sentences": bool(_SENTENCE_BREAK.search(sample)),
        "upper": line.isupper() and len(line) > 3,
        "paren_end": line.endswith(")") and "(" in line,
        "name_like": 1 <= n_words <= 4
        and len(line) <= 40
        and not line.endswith((".", "!", "?", ",", ":", ";"))
        and all(word[0].isupper() or not word[0].isalpha() for word in words),
    }
    features.update({name: 1.0 for name, on in flags.items() if on})
    # Readers write to each other, in the first and second person, loosely; reporters do not.
    first_person = sum(word in _FIRST_PERSON for word in lower)
    second_person = sum(word in _SECOND_PERSON for word in lower)
    if first_person:
        features["pron1"] = _bucket(first_person, (1, 3))
    if second_person:
        features["pron2"] = _bucket(second_person, (1, 3))
    informal = {
        "exclaim": "!" in sample,
        "question": "?" in sample,
        "ellipsis": ".." in sample or "\u2026" in sample,
        "tight_punct": bool(_TIGHT_PUNCTUATION.search(sample)),
        "shouting": sum(token.isupper() and len(token) >= 4 for token in tokens) >= 2,
    }
    features.update({name: 1.0 for name, on in informal.items() if on})
    return features


def page_features(
    lines: list[str], raw: list[str], chrome: list[str | None], hints: list[str] | None = None
) -> tuple[list[int], list[dict[str, float | str]]]:
    """Features of every non-blank line of a page, in context.

    `lines` are the stripped lines, `raw` as crawled, and `chrome` names what the known
    chrome patterns say of each line ("widget", "section", "form", "article"...) or None.
    Returns the indices of the non-blank lines and one feature dict for each.
    """
    content = [index for index, line in enumerate(lines) if line]
    count = len(content)
    recurring = Counter(lines[index] for index in content)
    shapes = [line_shape(lines[index], raw[index]) for index in content]
    first_line = lines[content[0]] if content else ""
    gaps_before = [0] * count
    for position, index in enumerate(content):
        previous = content[position - 1] if position else -1
        gaps_before[position] = index - previous - 1
    opening = sorted(len(lines[index]) for index in content[1:6]) or [1]
    typical = max(opening[len(opening) // 2], 1)
    authorish = [
        bool(shapes[position].get("name_like"))
        and position > 0
        and (gaps_before[position + 1] if position + 1 < count else 9) == 1
        for position in range(count)
    ]
    # How many lines down the next line that looks like a commenter's name is.
    next_authorish = [99] * count
    upcoming = 99
    for position in range(count - 1, -1, -1):
        next_authorish[position] = upcoming - position if upcoming < 99 else 99
        if authorish[position]:
            upcoming = position
    section_seen = False
    authorish_above = 0
    features = []
    for position, index in enumerate(content):
        line = lines[index]
        own = dict(shapes[position])
        own["gap"] = _bucket(gaps_before[position], (0, 1, 2, 3))
        after = gaps_before[position + 1] if position + 1 < count else 9
        own["gap_after"] = _bucket(after, (0, 1, 2, 3))
        own["pos"] = _bucket(round(10 * position / max(count - 1, 1)), (0, 1, 2, 4, 6, 8, 10))
        own["rank"] = _bucket(position, (0, 1, 2, 3, 5, 8))
        own["rel_len"] = _bucket(round(4 * len(line) / typical), (0, 1, 2, 3, 4, 6))
        if chrome[index]:
            own["chrome"] = chrome[index] or ""
            section_seen = section_seen or chrome[index] in ("widget", "section")
        if section_seen:
            own["after_section"] = 1.0
        if recurring[line] >= 2:
            own["recurs"] = 1.0
            own["recurs_short"] = 1.0 if len(line) <= 40 else 0.0
        if position and line == first_line:
            own["repeats_first"] = 1.0
        own["authorish_above"] = _bucket(authorish_above, (0, 1, 3))
        own["authorish_below"] = _bucket(next_authorish[position], (1, 2, 3, 5))
        if hints is not None:
            own["rule"] = hints[index]
        if authorish[position]:
            authorish_above += 1
        features.append(own)
    return content, _with_neighbours(features)


_NEIGHBOUR_KEYS = (
    "len",
    "last",
    "first",
    "gap",
    "indent",
    "chrome",
    "name_like",
    "numbered",
    "says",
    "recurs",
    "cue_line",
    "func",
    "month",
    "time",
    "rule",
)


def _with_neighbours(features: list[dict[str, float | str]]) -> list[dict[str, float | str]]:
    """Each line's features plus some of its neighbours' (two lines up and down)."""
    out = []
    for position, own in enumerate(features):
        merged = dict(own)
        for offset in (-2, -1, 1, 2):
            other = position + offset
            if not 0 <= other < len(features):
                merged[f"{offset}:edge"] = 1.0
                continue
            for key in _NEIGHBOUR_KEYS if abs(offset) == 1 else _NEIGHBOUR_KEYS[:6]:
                if key in features[other]:
                    merged[f"{offset}:{key}"] = features[other][key]
        out.append(merged)
    return out
