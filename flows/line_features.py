"""Shape features of the lines of many pages at once, for the line labeller in flows/parse.py.

Features are computed column-wise with polars over every non-blank line of a batch of pages
(regular expressions and counts in Rust, not a Python loop per line). They come out as
numbered attributes for labelling (flows/line_model.py), or as lists of attribute strings,
the form CRFsuite trains on.
"""

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

# Line labels the model gives: title, body, chrome (anything of the site: bylines, dates,
# captions, widgets, reply buttons), a commenter's author line, the first line of a comment
# shown without an author line, and any further line of comment text.
TITLE, BODY, CHROME, AUTHOR, START, MORE = "T", "B", "X", "A", "S", "C"

# Words whose identity is a cue: widget and reply-form vocabulary, time words and the
# commonest function words. Only these words are seen as words; every other word is seen by
# its shape alone, so the features read the same on any site and in any prose.
CUE_WORDS = frozenset(
    """
    reply replies like likes share shares report flag loading load more comment comments
    subscribe follow posted by on source sources tags tag related read click see leave log
    login logged sign up email print avatar says said wrote ago hour hours minute minutes
    day days week weeks month months year years edit edited delete permalink quote view all newest
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
_FUNCTION_WORDS = """
    the a an and of to in for with that was are is it on as by at from this be not or have
    has had will would can could should but if so do does did they he she we you i his her
    their its our your my who which what when there than then also just been were into about
    more all one no out up
    """.split()  # noqa: SIM905 (a word list reads best as words)

# Characters of a line that word and pattern features read: a paragraph shows its nature in
# its first sentences, and reading long lines whole would cost most of the parse.
_SAMPLE_CHARS = 200
_WORD = r"[^\W_]+(?:['\u2019][^\W_]+)*"
# ASCII word boundaries: Unicode ones cost several times more, and the words are English.
_FUNCTION = r"(?i)(?-u:\b)(?:" + "|".join(_FUNCTION_WORDS) + r")(?-u:\b)"
# Readers write to each other, in the first and second person, loosely; reporters do not.
_FIRST_PERSON = r"(?i)(?-u:\b)(?:i|me|my|we|us|our)(?-u:\b)"
_SECOND_PERSON = r"(?i)(?-u:\b)(?:you|your)(?-u:\b)"
_PATTERNS = {
    "month": r"(?i)(?-u:\b)(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*",
    "num_date": r"\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4}\b",
    "time": r"\b\d{1,2}:\d\d\b",
    "year": r"\b(?:19|20)\d\d\b",
    "digits": r"\d",
    "url": r"https?://|www\.|\b\S+\.(?:com|org|net|press|info|ru|ua|sy)\b|@\S+\.\S",
    "numbered": r"^\d{1,4}[.)] ",
    "says": r"\b(?:says:?|wrote:|said:)$",
    "sentences": r"[.!?] [\p{Lu}\"\u201c]",
    "paren_end": r"\(.*\)$",
    "exclaim": r"!",
    "question": r"\?",
    "ellipsis": r"\.\.|\u2026",
    # A comma or full stop with no space after it, between letters (`gone,i think`).
    "tight_punct": r"\p{Ll}[,.]\p{Ll}",
}
# Strings of which every match of a pattern holds one: the pattern reads only the lines that
# hold one (with Unicode word boundaries, a pattern read over every line cost four times more).
_PATTERN_NEEDS = {
    "url": ("://", "www.", ".com", ".org", ".net", ".press", ".info", ".ru", ".ua", ".sy", "@"),
}
# The class of a line's first and last character.
_CHAR_CLASSES = (
    ("U", r"\p{Lu}"),
    ("l", r"\p{Ll}"),
    ("9", r"\d"),
    ("•", r"[•·*\-\u2013\u2014▪►]"),
    ("q", "[\"'\u201c\u201d\u2018\u2019\u00ab\u00bb]"),
    ("(", r"[(\[{]"),
)
_KEPT_PUNCTUATION = ".!?:;,)]\u2026$#@|"
# Features of the lines above and below that each line also sees.
_NEIGHBOUR_KEYS = ("len", "last", "gap", "chrome", "name_like", "cue_line")


@dataclass(frozen=True)
class _Bucketed:
    """The attribute `name=B` for the first bound B that `value` does not exceed (`name=>N`
    above the last; none where `value` is null)."""

    name: str
    value: pl.Expr
    bounds: tuple[int, ...]

    def strings(self, prefix: str = "") -> list[str]:
        """The attribute of each bucket, in order (`prefix`: a neighbour's, `-1:`)."""
        last = f"{prefix}{self.name}=>{self.bounds[-1]}"
        return [*(f"{prefix}{self.name}={bound}" for bound in self.bounds), last]


@dataclass(frozen=True)
class _Flag:
    """The attribute `name` where `holds` (none where it does not or is null)."""

    name: str
    holds: pl.Expr


# An attribute of a line: bucketed, a flag, or an expression of the whole attribute string
# (`w0=reply`; null for none). The labeller reads the first two as numbers, never as strings.
_Attribute = _Bucketed | _Flag | pl.Expr


def _shifted(expr: pl.Expr, offset: int) -> pl.Expr:
    """`expr` of the line `offset` lines down the same page (null past the page's ends)."""
    same_page = pl.col("page").shift(-offset) == pl.col("page")
    return pl.when(same_page).then(expr.shift(-offset))


def _as_string(attribute: _Attribute) -> pl.Expr:
    """The attribute's string on each line (null for none), in a column of its name."""
    if isinstance(attribute, _Flag):
        return pl.when(attribute.holds).then(pl.lit(attribute.name)).alias(attribute.name)
    if isinstance(attribute, pl.Expr):
        return attribute
    value, *strings, last = [attribute.value, *attribute.strings()]
    result: Any = pl.when(value.is_null()).then(pl.lit(None, dtype=pl.String()))
    for bound, string in zip(attribute.bounds, strings, strict=True):
        result = result.when(value <= bound).then(pl.lit(string))
    return result.otherwise(pl.lit(last)).alias(attribute.name)


def _as_number(attribute: _Attribute) -> pl.Expr:
    """What tells the attribute of each line without a string, in a column of its name: of a
    bucketed one, the number of the bucket (one past the last where there is none); of a
    flag, whether it holds. An attribute string stays a string."""
    if isinstance(attribute, _Flag):
        return attribute.holds.fill_null(False).alias(attribute.name)
    if isinstance(attribute, pl.Expr):
        return attribute
    value, bounds = attribute.value, attribute.bounds
    bucket = pl.sum_horizontal([(value > bound).cast(pl.UInt8()) for bound in bounds])
    none = len(bounds) + 1
    return (
        pl.when(value.is_null())
        .then(pl.lit(none, pl.UInt8()))
        .otherwise(bucket)
        .alias(attribute.name)
    )


def _valued(name: str, expr: pl.Expr) -> pl.Expr:
    """The attribute `name=value` where `expr` has a value, else null."""
    return pl.concat_str(pl.lit(f"{name}="), expr).alias(name)


def _char_class(name: str, char: pl.Expr) -> pl.Expr:
    result: Any = pl.when(pl.lit(False)).then(pl.lit(""))
    for label, pattern in _CHAR_CLASSES:
        result = result.when(char.str.contains(f"^{pattern}$")).then(pl.lit(f"{name}={label}"))
    kept = char.is_in(list(_KEPT_PUNCTUATION))
    return (
        result.when(kept)
        .then(pl.concat_str(pl.lit(f"{name}="), char))
        .otherwise(pl.lit(f"{name}=o"))
        .alias(name)
    )


def _line_measures() -> list[pl.Expr]:
    """Counts and shares of each line on its own, from which its features are read."""
    line, sample = pl.col("line"), pl.col("sample")
    # Words of four letters or more, and those of them that start with a capital.
    long_words = sample.str.count_matches(r"(?:^| )\p{L}\S{3}")
    capitalised = sample.str.count_matches(r"(?:^| )\p{Lu}\S{3}")
    sample_words = sample.str.count_matches(" ", literal=True) + 1
    raw = pl.col("raw").str.replace_all("\t", "    ")
    return [
        line.str.len_chars().alias("n_chars"),
        (line.str.count_matches(" ", literal=True) + 1).alias("n_words"),
        (raw.str.len_chars() - raw.str.strip_chars_start().str.len_chars()).alias("n_indent"),
        # A line without long words has no capitalised one either: 0 / 1, not NaN (filling
        # NaN in cost more than all the other measures together).
        (4 * capitalised / long_words.clip(1)).round().alias("n_caps"),
        (10 * sample.str.count_matches(_FUNCTION) / sample_words).round().alias("n_func"),
        sample.str.count_matches(_FIRST_PERSON).alias("n_pron1"),
        sample.str.count_matches(_SECOND_PERSON).alias("n_pron2"),
        line.str.extract(r"^(\S+)").str.to_lowercase().str.strip_chars(":,.").alias("first_word"),
        line.str.extract(r"(\S+)$").str.to_lowercase().str.strip_chars(":,.").alias("last_word"),
        line.str.slice(0, 1).alias("first_char"),
        line.str.slice(-1, 1).alias("last_char"),
    ]


def _name_like() -> pl.Expr:
    """A short line of capitalised words without end punctuation, like a commenter's name."""
    line = pl.col("sample")
    short = pl.col("n_words").is_between(1, 4) & (pl.col("n_chars") <= 40)
    return (
        pl.when(short)
        .then(~line.str.contains(r"[.!?,:;]$") & ~line.str.contains(r"(?:^|\s)\p{Ll}"))
        .otherwise(False)
        .alias("is_name_like")
    )


def _line_columns() -> list[_Attribute]:
    """Attributes of each line on its own."""
    line, sample, n_words = pl.col("line"), pl.col("sample"), pl.col("n_words")
    first_word, last_word = pl.col("first_word"), pl.col("last_word")
    lowered = pl.when(n_words <= 4).then(sample.str.to_lowercase()).str.extract_all(_WORD)
    return [
        _Bucketed("len", pl.col("n_chars"), (3, 10, 25, 45, 70, 110, 200, 400)),
        _Bucketed("words", n_words, (1, 2, 3, 5, 8, 14, 25, 50)),
        _char_class("first", pl.col("first_char")),
        _char_class("last", pl.col("last_char")),
        _Bucketed("indent", pl.when(pl.col("n_indent") > 0).then(pl.col("n_indent")), (1, 3, 5, 7)),
        _Bucketed("caps", pl.col("n_caps"), (0, 1, 2, 3, 4)),
        _Bucketed("func", pl.col("n_func"), (0, 1, 2, 3, 4, 5)),
        _valued("w0", pl.when(first_word.is_in(CUE_WORDS)).then(first_word)),
        _valued("w-1", pl.when(last_word.is_in(CUE_WORDS)).then(last_word)),
        _valued(
            "cue_line",
            pl.when(lowered.list.eval(pl.element().is_in(CUE_WORDS)).list.all()).then(
                lowered.list.join(" ")
            ),
        ),
        # Absent rather than `=0` where most lines are 0: fewer attributes to hand over.
        _Bucketed("pron1", pl.when(pl.col("n_pron1") > 0).then(pl.col("n_pron1")), (1, 3)),
        _Bucketed("pron2", pl.when(pl.col("n_pron2") > 0).then(pl.col("n_pron2")), (1, 3)),
        # Read only where four capitals follow one another.
        _Flag(
            "shouting",
            pl.when(sample.str.contains(r"\p{Lu}{4}"))
            .then(sample)
            .str.count_matches(r"\b\p{Lu}{4,}\b")
            >= 2,
        ),
        _Flag(
            "upper",
            (line == line.str.to_uppercase())
            & line.str.contains(r"\p{Lu}")
            & (pl.col("n_chars") > 3),
        ),
        _Flag("name_like", pl.col("is_name_like")),
        *(_Flag(name, _contains(sample, name, pattern)) for name, pattern in _PATTERNS.items()),
    ]


def _contains(text: pl.Expr, name: str, pattern: str) -> pl.Expr:
    """Whether `text` holds a match of `pattern` (null where it cannot: see _PATTERN_NEEDS)."""
    needs = _PATTERN_NEEDS.get(name)
    if needs is None:
        return text.str.contains(pattern)
    return pl.when(text.str.contains_any(list(needs))).then(text).str.contains(pattern)


def _page_measures() -> list[pl.Expr]:
    """Where each line stands in its page: spacing, position, what is around it."""
    page, position, line_no = pl.col("page"), pl.col("position"), pl.col("line_no")
    gap_after = (_shifted(line_no, 1) - line_no - 1).fill_null(9)
    authorish = pl.col("is_name_like") & (position > 0) & (gap_after == 1)
    # The next author-like line below, found over the whole batch, counts only on this page.
    next_authorish = pl.when(authorish).then(position).shift(-1).backward_fill()
    its_page = pl.when(authorish).then(page).shift(-1).backward_fill()
    opening = pl.col("n_chars").filter(position.is_between(1, 5))
    section = pl.col("kind").is_in(["widget", "section"]).fill_null(False)
    gap = line_no - _shifted(line_no, -1).fill_null(-1) - 1
    return [
        gap.alias("gap_n"),
        # Pages space their lines differently: what sets a comment or a section apart is a
        # gap wider than the page's usual one.
        gap.median().over(page).alias("gap_typical"),
        gap_after.alias("gap_after_n"),
        pl.len().over(page).alias("count"),
        opening.median().over(page).fill_null(1).clip(1).alias("typical"),
        pl.when(its_page == page).then(next_authorish - position).fill_null(99).alias("to_author"),
        (authorish.cast(pl.Int32).cum_sum().over(page) - authorish.cast(pl.Int32)).alias(
            "authors_above"
        ),
        section.cast(pl.Int8).cum_max().over(page).alias("section_above"),
        (pl.len().over(page, "line") >= 2).alias("is_recurring"),
        pl.col("line").first().over(page).alias("first_line"),
    ]


def _page_columns() -> list[_Attribute]:
    """Attributes of each line in its page."""
    position = pl.col("position")
    return [
        _Bucketed("gap", pl.col("gap_n"), (0, 1, 2, 3)),
        _Bucketed("gap_after", pl.col("gap_after_n"), (0, 1, 2, 3)),
        _Flag("gap_wide", (pl.col("gap_n") > pl.col("gap_typical")) & (position > 0)),
        _Flag("gap_narrow", pl.col("gap_n") < pl.col("gap_typical")),
        _Bucketed(
            "pos", (10 * position / (pl.col("count") - 1).clip(1)).round(), (0, 1, 2, 4, 6, 8, 10)
        ),
        _Bucketed(
            "rel_len", (4 * pl.col("n_chars") / pl.col("typical")).round(), (0, 1, 2, 3, 4, 6)
        ),
        _Bucketed("authorish_above", pl.col("authors_above"), (0, 1, 3)),
        _Bucketed("authorish_below", pl.col("to_author"), (1, 2, 3, 5)),
        _valued("chrome", pl.col("kind")),
        _Flag("after_section", pl.col("section_above") == 1),
        _Flag("recurs", pl.col("is_recurring")),
        _Flag("repeats_first", (position > 0) & (pl.col("line") == pl.col("first_line"))),
        _Flag("-1:edge", position == 0),
        _Flag("1:edge", position == pl.col("count") - 1),
    ]


_OWN_NAMES = (
    "len words first last indent caps func w0 w-1 cue_line pron1 pron2 shouting upper "
    "name_like gap gap_after gap_wide gap_narrow pos rel_len authorish_above authorish_below "
    "chrome after_section recurs repeats_first -1:edge 1:edge"
)
_OWN = [*_OWN_NAMES.split(), *_PATTERNS]


# What `line_features` reads: one row per non-blank line, in page order: the page's number
# in the batch, the line's among the page's non-blank lines and among all its lines, the line
# stripped and as crawled, and the kind of known chrome it is (null when none).
LINES_SCHEMA = {
    "page": pl.UInt32(),
    "position": pl.Int64(),
    "line_no": pl.Int64(),
    "line": pl.String(),
    "raw": pl.String(),
    "kind": pl.String(),
}


@functools.cache
def _measure_steps() -> list[list[pl.Expr]]:
    """The columns added at each step from lines to what their attributes are read from,
    built once per process: a parse of one page (`newsflow explain`, a page parsed on its own
    budget) would otherwise spend more time building them than using them."""
    return [
        [pl.col("line").str.slice(0, _SAMPLE_CHARS).alias("sample")],
        _line_measures(),
        [_name_like()],
        _page_measures(),
    ]


@functools.cache
def _attributes() -> dict[str, _Attribute]:
    """Every kind of attribute of a line on its own, by name."""
    attributes = [*_line_columns(), *_page_columns()]
    return {_name(attribute): attribute for attribute in attributes}


def _name(attribute: _Attribute) -> str:
    if isinstance(attribute, pl.Expr):
        return attribute.meta.output_name()
    return attribute.name


def _attribute_columns(
    lines: pl.DataFrame, attributes: list[pl.Expr], columns: list[pl.Expr]
) -> pl.DataFrame:
    """`columns`, expressions over the `attributes` columns, for `lines` (page, position,
    line_no, line, raw, kind: one row per non-blank line, in page order)."""
    # Step by step, not as one planned (lazy) query: planning some 250 expressions costs more
    # than it saves, for a page (26 ms planned, 8 ms step by step) as for the 250 pages a parse
    # worker takes at a time (0.19 s of CPU planned, 0.13 s step by step).
    frame = lines
    for step in [*_measure_steps(), attributes]:
        frame = frame.with_columns(step)
    return frame.select(columns)


def line_features(lines: pl.DataFrame) -> list[list[str]]:
    """The attributes of each line in `lines` (page, position, line_no, line, raw, kind: one
    row per non-blank line, in page order), as a list of strings per line: what the labeller
    is trained on."""
    neighbours = [
        pl.concat_str(pl.lit(f"{offset}:"), _shifted(pl.col(key), offset))
        for offset in (-1, 1)
        for key in _NEIGHBOUR_KEYS
    ]
    # One tab-joined string per line: far cheaper to hand to Python than a list column.
    joined = pl.concat_str([*map(pl.col, _OWN), *neighbours], separator="\t", ignore_nulls=True)
    attributes = [_as_string(attribute) for attribute in _attributes().values()]
    strings = _attribute_columns(lines, attributes, [joined]).to_series()
    return [line_attributes.split("\t") for line_attributes in strings.to_list()]


def line_attribute_ids(lines: pl.DataFrame, known: Sequence[str]) -> np.ndarray:
    """The attributes of each line in `lines` by their number in `known` (counted from 1),
    one row per line and one column per kind of attribute, 0 for an attribute not in `known`
    or none: what the labeller labels from.

    The same attributes as line_features gives, mostly without making their strings: a
    bucket's number or a flag becomes the attribute's number through a table; only the
    attributes that are strings anyway (words, chrome kinds, characters) are numbered in
    polars.
    """
    numbering = _Numbering(known)
    own = [numbering.column(name, "", pl.col(name)) for name in _OWN]
    beside = [
        numbering.column(key, f"{offset}:", _shifted(pl.col(key), offset))
        for offset in (-1, 1)
        for key in _NEIGHBOUR_KEYS
    ]
    columns, tables = zip(*own, *beside, strict=True)
    attributes = [_as_number(attribute) for attribute in _attributes().values()]
    frame = _attribute_columns(lines, attributes, list(columns))
    ids = np.empty((frame.height, frame.width), dtype=np.int64)
    for position, (series, table) in enumerate(zip(frame.iter_columns(), tables, strict=True)):
        values = series.to_numpy()
        ids[:, position] = values if table is None else table[values.astype(np.int64)]
    return ids


class _Numbering:
    """How each kind of attribute gets its number in the attributes a model knows."""

    def __init__(self, known: Sequence[str]) -> None:
        self.number = {attribute: i for i, attribute in enumerate(known, start=1)}
        # The enum's categories number the attributes; one it lacks casts to null, then 0.
        self.enum = pl.Enum(["", *known])

    def column(self, name: str, prefix: str, column: pl.Expr) -> tuple[pl.Expr, np.ndarray | None]:
        """The column that tells attribute `name` (of the line `prefix` names, or its own),
        from `column` (the attribute as _as_number gives it), and the table from that column's
        values to the attribute's number (None: the column holds the numbers)."""
        attribute = _attributes()[name]
        column = column.alias(prefix + name)
        if isinstance(attribute, pl.Expr):
            if prefix:
                column = pl.concat_str(pl.lit(prefix), column).alias(prefix + name)
            return column.cast(self.enum, strict=False).to_physical().fill_null(0), None
        if isinstance(attribute, _Flag):
            return column.fill_null(False), self._table([None, prefix + name])
        none = len(attribute.bounds) + 1
        return column.fill_null(none), self._table([*attribute.strings(prefix), None])

    def _table(self, strings: list[str | None]) -> np.ndarray:
        return np.array([self.number.get(string, 0) if string else 0 for string in strings])
