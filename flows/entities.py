"""Find named people, organisations and places in titles, bodies and comments."""

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import polars as pl
from ahocorasick_rs import BytesAhoCorasick, MatchKind

from flows.schema import conform

REFERENCE = Path(__file__).resolve().parent / "reference"
# The curated domain layer (hand-kept) and the base layer (built by flows.reference.build).
GAZETTEER = REFERENCE / "gazetteer.csv"
PLACES = REFERENCE / "places.csv"
COMMON_WORDS = REFERENCE / "common_words.txt"
NOT_NAMES = REFERENCE / "not_names.txt"
ENTITY_TYPES = ("PERSON", "ORG", "LOC")
TEXT_SCHEMA = pl.Schema(
    {
        "article_id": pl.String(),
        "comment_id": pl.String(),
        "field": pl.String(),
        "text": pl.String(),
    }
)
SPAN_SCHEMA = pl.Schema(
    {"idx": pl.UInt32(), "char_start": pl.Int32(), "char_end": pl.Int32(), "surface": pl.String()}
)
# Upper-case spellings (`SYRIA`) are matched for names at least this long: shorter ones are
# acronyms already, or collide with them.
UPPER_CASE_MIN_LENGTH = 5


@dataclass(frozen=True)
class Gazetteer:
    """Canonical entities and every surface form (name, alias, spelling, case variant) that
    links to one, with the word lists discovery needs."""

    entities: pl.DataFrame
    entity_of_surface: dict[str, str]
    common_words: frozenset[str] = frozenset()
    not_names: frozenset[str] = frozenset()
    # Surface forms that are also first names or parts of longer names (`Vladimir` the city,
    # `Nasser` the president): not matched when another name follows (`Vladimir Rogov`).
    loose: frozenset[str] = frozenset()

    @property
    def matcher(self) -> "SurfaceMatcher":
        """The automaton of every surface form: built once per process, not once per batch."""
        return _matcher_of(self.surfaces)

    @cached_property
    def surfaces(self) -> tuple[str, ...]:
        return tuple(self.entity_of_surface)

    @cached_property
    def ordinary_words(self) -> frozenset[str]:
        """Words that do not make a name: everyday words and the known non-names, in lower
        case with plain apostrophes."""
        return self.common_words | {w.lower().replace("’", "'") for w in self.not_names}  # noqa: RUF001


class SurfaceMatcher:
    """Leftmost-longest matching of a fixed list of surface forms over UTF-8 bytes."""

    def __init__(self, surfaces: Iterable[str]) -> None:
        self.names = list(surfaces)
        self.surfaces = pl.Series("surface", self.names, dtype=pl.String())
        self.members = frozenset(self.names)
        encoded = [surface.encode() for surface in self.names]
        # The haystack joins texts with NUL: a surface holding one could match across two.
        if any(b"\0" in surface for surface in encoded):
            raise ValueError("a surface form holds a NUL character")
        self._automaton = BytesAhoCorasick(encoded, matchkind=MatchKind.LeftmostLongest)

    def find(self, haystack: bytes) -> np.ndarray:
        """(surface index, byte start, byte end) of each match, one row per match, in order."""
        found = self._automaton.find_matches_as_indexes(haystack)
        return np.array(found, dtype=np.int64).reshape(-1, 3)


@lru_cache(maxsize=8)
def _series_of(words: frozenset[str]) -> pl.Series:
    """`words` as polars takes them for `is_in` (a list, the one value of a Series): made once
    for each of the gazetteer's word sets, not on every use (a list of 35,000 words took 17 ms
    to hand to polars)."""
    return pl.Series(sorted(words), dtype=pl.String()).implode()


# An automaton cannot be pickled, and Dask pickles the gazetteer into every task: each
# process keeps the automaton of the gazetteer it last saw instead.
@lru_cache(maxsize=2)
def _matcher_of(surfaces: tuple[str, ...]) -> SurfaceMatcher:
    return SurfaceMatcher(surfaces)


@dataclass(frozen=True)
class Extraction:
    """What the entity stage found in a batch of texts."""

    mention: pl.DataFrame  # entity_mention rows, gazetteer and discovery
    entity: pl.DataFrame  # entity rows discovered in these texts (source = 'discovered')
    candidate: pl.DataFrame  # capitalised names with no clear type, for analysts to review


def load_gazetteer(
    path: Path = GAZETTEER, base: Path | None = PLACES, words: Path = COMMON_WORDS
) -> Gazetteer:
    """Read the curated layer and the base layer (entity_id, name, type, wikidata_id, aliases
    and any_case, both separated by |). Curated rows win: a base place that a curated entity
    names is merged into it, and a base alias a curated entity claims stays with that one."""
    curated = _read_layer(path, "curated")
    owner: dict[str, str] = {}
    for row in curated:
        for surface in row["surfaces"]:
            claimed = owner.setdefault(surface, row["entity_id"])
            if claimed != row["entity_id"]:
                raise ValueError(
                    f"{path.name}: {surface!r} names both {claimed} and {row['entity_id']}; "
                    "give it to one of them only"
                )
    rows: dict[str, dict] = {}
    for row in curated:
        if row["entity_id"] in rows:
            raise ValueError(
                f"{path.name}: entity_id {row['entity_id']!r} is on two rows; merge them into one"
            )
        rows[row["entity_id"]] = row
    for row in _read_layer(base, "base") if base is not None and base.exists() else []:
        same = rows.get(row["entity_id"]) or rows.get(owner.get(row["name"], ""))
        if same is not None and same["type"] != row["type"]:
            continue
        unclaimed = [s for s in row["surfaces"] if s not in owner]
        target = same or row
        if same is None:
            if row["name"] not in unclaimed:
                continue
            rows[row["entity_id"]] = row
            row["surfaces"] = []
        for surface in unclaimed:
            owner[surface] = target["entity_id"]
            target["surfaces"].append(surface)
        target["any_case"] |= row["any_case"] & set(unclaimed)

    entity_of_surface, loose = _surface_forms(rows, owner)
    entities = pl.DataFrame(
        {
            "entity_id": list(rows),
            "name": [row["name"] for row in rows.values()],
            "type": [row["type"] for row in rows.values()],
            "wikidata_id": [row["wikidata_id"] or None for row in rows.values()],
            "source": ["gazetteer"] * len(rows),
        }
    )
    return Gazetteer(
        conform(entities, "entity"),
        entity_of_surface,
        _read_words(words),
        _read_words(NOT_NAMES),
        frozenset(loose),
    )


def _surface_forms(rows: dict[str, dict], owner: dict[str, str]) -> tuple[dict[str, str], set]:
    """Every surface form (with its case variants) and its entity; the loose ones apart."""
    entity_of_surface = {s: e for s, e in owner.items() if s}
    loose = set()
    for row in rows.values():
        for surface in row["surfaces"]:
            variants = [surface, *_case_variants(surface, surface in row["any_case"])]
            for variant in variants:
                entity_of_surface.setdefault(variant, row["entity_id"])
            if row["layer"] == "base" or (row["type"] == "PERSON" and " " not in surface):
                loose.update(variants)
    return entity_of_surface, loose


def _read_layer(path: Path, layer: str) -> list[dict]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for row in rows:
        if row["type"] not in ENTITY_TYPES:
            raise ValueError(
                f"{path.name}: {row['entity_id']} has type {row['type']!r}; "
                f"use one of {', '.join(ENTITY_TYPES)}"
            )
        aliases = [alias.strip() for alias in row["aliases"].split("|") if alias.strip()]
        surfaces = list(dict.fromkeys([row["name"], *aliases]))
        any_case = {s.strip() for s in (row.get("any_case") or "").split("|") if s.strip()}
        if any_case - set(surfaces):
            raise ValueError(
                f"{path.name}: {row['entity_id']} marks {sorted(any_case - set(surfaces))} "
                "as any_case, but they are not its name or aliases"
            )
        found.append({**row, "surfaces": surfaces, "any_case": any_case, "layer": layer})
    return found


def _read_words(path: Path) -> frozenset[str]:
    if not path.exists():
        return frozenset()
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _case_variants(surface: str, any_case: bool) -> list[str]:
    """Other spellings of `surface` to match: `SYRIA` for every name long enough; `syria`,
    `Syria` and `SYRIA` for a name marked safe to match in any case."""
    variants = []
    if len(surface) >= UPPER_CASE_MIN_LENGTH and surface != surface.upper():
        variants.append(surface.upper())
    if any_case:
        variants += [surface.lower(), surface.upper(), _capitalise(surface)]
    return [v for v in variants if v != surface]


def _capitalise(surface: str) -> str:
    return " ".join(word[:1].upper() + word[1:] for word in surface.split(" "))


def text_fields(article: pl.DataFrame, comment: pl.DataFrame) -> pl.DataFrame:
    """Every text an entity can be named in: one row per title, body and comment."""
    no_comment = pl.lit(None, dtype=pl.String()).alias("comment_id")
    parts = [
        article.select("article_id", no_comment, pl.lit("title").alias("field"), text="title"),
        article.select("article_id", no_comment, pl.lit("body").alias("field"), text="body"),
        comment.select("article_id", "comment_id", pl.lit("comment").alias("field"), text="body"),
    ]
    return pl.concat([part.cast(TEXT_SCHEMA) for part in parts]).drop_nulls("text")


def find_mentions(texts: pl.DataFrame, gazetteer: Gazetteer) -> pl.DataFrame:
    """Gazetteer mentions only: every surface form in `texts` as a whole word; where matches
    overlap the longest wins (`Greater Idlib` over `Idlib`). Offsets are in characters."""
    owner = gazetteer.entity_of_surface
    spans = match_spans(
        texts, owner, gazetteer.matcher, gazetteer.loose, gazetteer.common_words
    ).with_columns(entity_id=pl.col("surface").replace_strict(owner, return_dtype=pl.String))
    return _mentions(texts, spans, pl.lit("gazetteer"))


def extract_entities(texts: pl.DataFrame, gazetteer: Gazetteer) -> Extraction:
    """The entity stage: discover names the gazetteer lacks, then match gazetteer names,
    discovered names and untyped candidate names in one pass (longest wins)."""
    # polars compiles a pattern once per chunk: one chunk, one compilation.
    texts = texts.rechunk()
    found = discover(texts, gazetteer)
    owner = dict(gazetteer.entity_of_surface)
    discovered = [name for name in found.entity["name"] if name not in owner]
    owner.update(zip(found.entity["name"], found.entity["entity_id"], strict=True))
    loose = set(gazetteer.loose)
    ordinary = gazetteer.common_words
    for name, kind, entity_id in found.entity.select("name", "type", "entity_id").iter_rows():
        # `Yahya Saree` once named, `Saree` is the same man in the rest of the batch.
        last = name.split(" ")[-1]
        distinctive = len(last) >= 4 and last.lower() not in ordinary and last not in owner
        if kind == "PERSON" and last != name and distinctive:
            owner[last] = entity_id
            discovered.append(last)
            loose.add(last)
    owner.update((name, "") for name in found.candidate_names if name not in owner)
    spans = match_spans(texts, owner, gazetteer.matcher, frozenset(loose), ordinary).with_columns(
        entity_id=pl.col("surface").replace_strict(owner, return_dtype=pl.String)
    )
    named = spans.filter(pl.col("entity_id") != "")
    extractor = pl.when(pl.col("surface").is_in(discovered)).then(pl.lit("discovery"))
    mention = _mentions(texts, named, extractor.otherwise(pl.lit("gazetteer")))
    candidate = conform(
        spans.filter(pl.col("entity_id") == "")
        .join(_text_keys(texts), on="idx")
        .with_columns(name="surface", mention_id=_mention_key()),
        "candidate_mention",
    )
    entity = found.entity.filter(pl.col("entity_id").is_in(mention["entity_id"].implode()))
    return Extraction(mention, entity, candidate)


def match_spans(
    texts: pl.DataFrame,
    owner: dict[str, str],
    known: SurfaceMatcher,
    loose: frozenset[str] = frozenset(),
    ordinary: frozenset[str] = frozenset(),
) -> pl.DataFrame:
    """Whole-word, longest-leftmost matches of the surface forms in `owner`: one row per
    match with the text's row number (`idx`), character offsets and the surface. `known`
    matches most of them (the gazetteer's, its automaton kept for the run); with the rest (a
    batch's own names) they are matched by an automaton of the batch. A `loose` surface
    followed by another capitalised name that is not an `ordinary` word (`Vladimir Rogov`,
    `Nasser Kanaani`) or by a hyphen and a digit (`Samad-3`) is part of something else and not
    matched, except in titles, where every word is capitalised."""
    if not owner or texts.is_empty():
        return pl.DataFrame(schema=SPAN_SCHEMA)
    hits = _hits(texts, known, [surface for surface in owner if surface not in known.members])
    text_bytes = pl.col("text").cast(pl.Binary)
    byte_end = pl.col("byte_start") + pl.col("surface").str.len_bytes()
    checked = hits.filter(
        ~_is_word_char(_char_before(text_bytes, pl.col("byte_start")))
    ).with_columns(whole=~_is_word_char(_char_after(text_bytes, byte_end)))
    whole_words = pl.concat(
        [checked.filter("whole"), _shorter_whole_words(checked.filter(~pl.col("whole")), owner)]
    )
    if loose:
        whole_words = _without_parts_of_longer_names(whole_words, byte_end, loose, ordinary)
    return (
        whole_words.select("idx", "surface", "char_start")
        .with_columns(char_end=pl.col("char_start") + pl.col("surface").str.len_chars())
        .select(SPAN_SCHEMA.names())
        .cast(SPAN_SCHEMA)
        .sort("idx", "char_start")
    )


def _hits(texts: pl.DataFrame, known: SurfaceMatcher, others: list[str]) -> pl.DataFrame:
    """Leftmost-longest matches of the surfaces of `known` and `others` together, in every
    text: its row number (`idx`), text, whether it is a title, the match's byte and
    character start and its surface."""
    # A batch's own names join the gazetteer's in an automaton of the batch: building one of
    # 41,009 surfaces takes 0.07 s, a few seconds over a 100k-page run.
    matcher = SurfaceMatcher([*known.names, *others]) if others else known
    lengths = texts["text"].str.len_bytes().cast(pl.Int64).to_numpy()
    # One haystack for the batch, one call: the texts joined by NUL, which no surface holds.
    haystack = "\0".join(texts["text"].to_list()).encode()
    text_starts = np.concatenate(([0], np.cumsum(lengths + 1)[:-1]))
    matches = matcher.find(haystack)
    starts = matches[:, 1]
    idx = np.searchsorted(text_starts, starts, side="right") - 1
    about = texts.select("text", title=pl.col("field") == "title")
    return about[idx].select(
        pl.Series("idx", idx, dtype=pl.UInt32()),
        pl.all(),
        pl.Series("byte_start", starts - text_starts[idx], dtype=pl.Int64()),
        pl.Series("char_start", _chars_before(haystack, starts, text_starts[idx])),
        matcher.surfaces.gather(matches[:, 0]).alias("surface"),
    )


def _chars_before(haystack: bytes, starts: np.ndarray, text_starts: np.ndarray) -> np.ndarray:
    """Characters from each text's start to each match's start, given as byte offsets into
    the UTF-8 `haystack`: the bytes between less the continuation bytes among them. Counted
    from where those bytes lie, not by decoding each text's beginning once per match (which
    took hundreds of MB for a batch)."""
    continuation = np.flatnonzero((np.frombuffer(haystack, dtype=np.uint8) & 0xC0) == 0x80)
    within = np.searchsorted(continuation, starts) - np.searchsorted(continuation, text_starts)
    return starts - text_starts - within


def _without_parts_of_longer_names(
    whole_words: pl.DataFrame, byte_end: pl.Expr, loose: frozenset[str], ordinary: frozenset[str]
) -> pl.DataFrame:
    """Drop matches of `loose` surfaces that are part of a longer name (`Vladimir Rogov`)."""
    text_bytes = pl.col("text").cast(pl.Binary)
    # Only a space and a capital (ASCII, so one byte) after the match, or a hyphen and a
    # digit, make it worth reading what follows.
    space_capital = (text_bytes.bin.get(byte_end, null_on_oob=True) == 0x20) & (
        text_bytes.bin.get(byte_end + 1, null_on_oob=True).is_between(0x41, 0x5A)
    )
    hyphen_digit = (text_bytes.bin.get(byte_end, null_on_oob=True) == 0x2D) & (
        text_bytes.bin.get(byte_end + 1, null_on_oob=True).is_between(0x30, 0x39)
    )
    is_loose = (
        (space_capital | hyphen_digit).fill_null(False)
        & pl.col("surface").is_in(_series_of(loose))
        & ~pl.col("title")
    )
    # From a character boundary to the end of the text is always whole UTF-8.
    following = text_bytes.bin.slice(byte_end).cast(pl.String)
    next_name = following.str.extract(r"^ (\p{Lu}\p{Ll}+)", 1)
    part_of_another = (
        next_name.is_not_null() & ~next_name.str.to_lowercase().is_in(_series_of(ordinary))
    ) | following.str.contains(r"^-\d")
    return pl.concat(
        [
            whole_words.filter(~is_loose),
            whole_words.filter(is_loose).filter(~part_of_another),
        ]
    )


def _shorter_whole_words(failed: pl.DataFrame, owner: dict[str, str]) -> pl.DataFrame:
    """Where the longest match runs into a word (`Deir ez-Zor Governorates`), the longest
    shorter surface form at the same place that ends at a word boundary (`Deir ez-Zor`)."""
    prefixes = [
        (surface, surface[:cut])
        for surface in failed["surface"].unique()
        for cut in range(1, len(surface))
        if not surface[cut].isalnum() and surface[:cut] in owner
    ]
    if not prefixes:
        return failed.clear()
    text_bytes = pl.col("text").cast(pl.Binary)
    shorter = pl.DataFrame(prefixes, schema=["surface", "prefix"], orient="row")
    return (
        failed.join(shorter, on="surface")
        .with_columns(surface="prefix")
        .filter(
            ~_is_word_char(
                _char_after(text_bytes, pl.col("byte_start") + pl.col("surface").str.len_bytes())
            )
        )
        .sort(pl.col("surface").str.len_bytes(), descending=True)
        .unique(["idx", "byte_start"], keep="first")
        .select(failed.columns)
    )


def _char_before(text_bytes: pl.Expr, start: pl.Expr) -> pl.Expr:
    """The character that ends at byte `start` (null at the start of the text)."""
    byte = [text_bytes.bin.get(start - back, null_on_oob=True) for back in (1, 2, 3)]
    width = (
        pl.when(byte[0] < 0x80)
        .then(1)
        .when(byte[1] >= 0xC0)
        .then(2)
        .when(byte[2] >= 0xE0)
        .then(3)
        .otherwise(4)
    )
    return pl.when(start > 0).then(
        text_bytes.bin.slice(start - width, width).cast(pl.String, strict=False)
    )


def _char_after(text_bytes: pl.Expr, end: pl.Expr) -> pl.Expr:
    """The character that starts at byte `end` (empty at the end of the text)."""
    lead = text_bytes.bin.get(end, null_on_oob=True)
    width = (
        pl.when(lead < 0x80).then(1).when(lead >= 0xF0).then(4).when(lead >= 0xE0).then(3)
    ).otherwise(2)
    return text_bytes.bin.slice(end, width).cast(pl.String, strict=False)


def _is_word_char(char: pl.Expr) -> pl.Expr:
    return char.str.contains(r"^[\p{L}\p{N}\p{M}]").fill_null(False)


def _text_keys(texts: pl.DataFrame) -> pl.DataFrame:
    return texts.select("article_id", "comment_id", "field").with_row_index("idx")


def _mentions(texts: pl.DataFrame, spans: pl.DataFrame, extractor: pl.Expr) -> pl.DataFrame:
    """entity_mention rows of `spans` (which carry their entity_id). A text holds one mention
    per start offset, so the text's key and the offset make a stable mention key."""
    return conform(
        spans.join(_text_keys(texts), on="idx").with_columns(
            mention_id=_mention_key(), extractor=extractor
        ),
        "entity_mention",
    )


def _mention_key() -> pl.Expr:
    text_key = pl.coalesce("comment_id", "field")
    return pl.concat_str(
        "article_id", text_key, pl.col("char_start").cast(pl.String), separator="/"
    )


# Discovery: capitalised names the gazetteer lacks, typed by the words around them.

_TOKEN = r"\p{Lu}[\p{L}\p{M}]*(?:['’\-][\p{L}\p{M}]+)*"  # noqa: RUF001
_PARTICLE = (
    r"(?:al|el|ad|ash|as|at|ar|an|az|ez|ed|adh|ath)-\p{Lu}[\p{L}\p{M}]*(?:['’\-][\p{L}\p{M}]+)*"  # noqa: RUF001
)
_LINK = r"(?:bin|ibn|bint|abu|de|da|del|di|du|van|von|der|den|al|el|la|le|ul)"
_WORD = rf"(?:{_TOKEN}|{_PARTICLE})"
_NAME = rf"{_WORD}(?: (?:{_LINK} ){{0,2}}{_WORD}){{0,4}}"
_TITLES = (
    r"(?:President|Vice[ -]President|Prime Minister|Minister|Chancellor|King|Queen|Prince|"
    r"Emir|Sheikh|Shaykh|Sultan|Ayatollah|Pope|Patriarch|Senator|Sen\.|Rep\.|Congressman|"
    r"Congresswoman|Governor|Gov\.|Mayor|Ambassador|General|Gen\.|Colonel|Col\.|Major|Maj\.|"
    r"Captain|Capt\.|Lieutenant|Lt\.|Admiral|Adm\.|Marshal|Commander|Secretary|Mr\.?|Mrs\.?|"
    r"Ms\.?|Dr\.?|Sergeant|Sgt\.|Chairman|Speaker|Judge|Rabbi|Imam|spokesman|spokeswoman|"
    r"spokesperson|commander|leader|journalist|correspondent|analyst|blogger|activist|envoy|"
    r"lawmaker|senator|minister|president|chief)"
)
_ORG_WORDS = (
    r"(?:Army|Party|Front|Brigades?|Battalions?|Regiment|Division|Corps|Forces|Movement|"
    r"Council|Committee|Agency|Ministry|Organi[sz]ation|Union|Group|Guards?|Command|Coalition|"
    r"Alliance|Institute|University|Bank|Company|Corporation|Network|Foundation|Federation|"
    r"Authority|Fleet|Militia|Legion|Operations Room|Channel|Times|Post|News|TV)"
)
_ARABIC_GROUP = (
    r"(?:Jaish|Jaysh|Jabhat|Harakat|Hay['’]at|Hayat|Liwa|Faylaq|Failaq|Kata['’]?ib|Saraya|"  # noqa: RUF001
    r"Ansar|Ahrar|Tajammu|Firqat|Alwiya|Jund|Junud|Hizb|Jama['’]?at|Asa['’]?ib|Quwat)"  # noqa: RUF001
    r"[ -](?:al|el|ash|as|ad|at|ar|an|az|ul)[- ]\p{Lu}[\p{L}\p{M}'’]+"  # noqa: RUF001
    r"(?:[ -](?:(?:al|el|ash|as|ad|at|ar|an|az|wa|ul)[- ])?\p{Lu}[\p{L}\p{M}'’]+)*"  # noqa: RUF001
)
_DIRECTIONS = r"(?:north|south|east|west)(?:[ -]?(?:east|west))?(?:ern)?"
# (regex with one group: the name, type, whether the words before or after make the name)
CUES: tuple[tuple[str, str, str], ...] = (
    (
        r"(?-u:\b)(?:villages?|towns?|city|township|hamlet|settlement|district|province|"
        r"governorate|region|neighbou?rhood|suburbs?|outskirts|countryside|vicinity|farms|"
        rf"heights|island|port|valley|airport) of ({_NAME})",
        "LOC",
        "place word",
    ),
    (rf"(?-u:\b){_DIRECTIONS} of ({_NAME})", "LOC", "direction"),
    (rf"(?-u:\b)(?:near|outside|around|towards?) ({_NAME})", "LOC", "near"),
    (
        rf"(?-u:\b)({_NAME}) (?:village|town|district|countryside|area|airbase|airport|air base|"
        r"border crossing|crossing|neighbou?rhood|suburb|valley|mountains?|hills?|plain|"
        r"governorate|province|oblast|river|lake|dam|highway|road)(?-u:\b)",
        "LOC",
        "place word",
    ),
    (
        rf"(?-u:\b)((?:{_TOKEN} ){{0,3}}(?:Airport|International Airport|Air Base|Airbase|"
        r"Strait|Sea|Mountains|Valley|River|Lake|Island|Dam|Square|Palace|Bridge|"
        r"Border Crossing|Crossing|Oil Field|Gas Field))(?-u:\b)",
        "LOC",
        "place name",
    ),
    (rf"(?-u:\b)(Mount {_NAME})", "LOC", "place name"),
    (
        rf"(?-u:\b)((?:\d+(?:st|nd|rd|th) )?(?:{_NAME} )?{_ORG_WORDS})(?-u:\b)",
        "ORG",
        "organisation word",
    ),
    (
        rf"(?-u:\b)((?:{_TOKEN} ){{0,2}}(?:Ministry|Department|Office|Directorate|Bureau|Council|"
        r"Committee|Party|Front|Union|University|Institute|Academy|League|Federation|Movement|"
        r"Organi[sz]ation|Commission|Agency|Court|Assembly|Center|Centre|Institute) (?:of|for) "
        rf"(?:the )?{_NAME}(?: (?:of|for|and|on) (?:the )?{_NAME}){{0,2}})",
        "ORG",
        "organisation of",
    ),
    (rf"(?-u:\b)({_ARABIC_GROUP})", "ORG", "group name"),
    (rf"(?-u:\b){_TITLES} ({_NAME})", "PERSON", "title"),
    (
        rf"(?-u:\b)({_NAME}), (?:the |a |an )?(?:[\p{{L}}-]+ ){{0,4}}(?:spokes(?:man|woman|person)|"
        r"commander|leader|head|chief|minister|president|founder|journalist|analyst|"
        r"adviser|advisor|envoy|ambassador|senator|lawmaker|general|colonel|director|"
        r"chairman|correspondent|editor|professor|member|official|officer|deputy|governor|"
        r"mayor)(?-u:\b)",
        "PERSON",
        "title",
    ),
    (
        rf"(?-u:\b)({_TOKEN} {_TOKEN}) (?:said|says|told|stated|added|noted|wrote|tweeted)(?-u:\b)",
        "PERSON",
        "speech",
    ),
)
# Cues whose pattern is slow over whole texts (a long alternation of titles, optional words
# before a keyword): a quick scan first, the cue's own pattern on what the scan found.
_REST = r"[^\n,;:!?()]{0,60}"
SCANS = {
    CUES[9][0]: rf"(?-u:\b){_TITLES} \p{{Lu}}{_REST}",
    CUES[7][0]: r"(?:[^ \n]+ ){0,2}(?:Ministry|Department|Office|Directorate|Bureau|Council|"
    r"Committee|Party|Front|Union|University|Institute|Academy|League|Federation|Movement|"
    r"Organi[sz]ation|Commission|Agency|Court|Assembly|Center|Centre) (?:of|for) [^\n]{0,100}",
}
TITLE_CUES = {CUES[9][0]}
TITLE_PREFIX = rf"^{_TITLES} "
# A capitalised name in mid-sentence: no cue says what it is.
_MID_SENTENCE = rf"[a-z0-9,;:] ({_NAME})"
# Patterns whose group is all of a match after its first N characters: the name is cut from
# the match rather than found again by the group (a second, slower pass: 0.1 s a batch).
GROUP_AT = {CUES[6][0]: 0, _MID_SENTENCE: 2}
# Sentence openers, articles and titles that a capitalised run can start with.
_LEADING_WORDS = (
    r"^(?:(?:The|A|An|And|But|Or|Of|In|On|At|To|For|From|By|As|If|When|While|After|Before|"
    r"During|Since|Meanwhile|However|Also|Yesterday|Today|This|That|These|Those|His|Her|"
    r"Their|Its|Our|Your|My|Both|Many|Some|Most|All|Several|Other|Another|Only|Even|Then|"
    r"Now|So|Thus|Under|Over|Against|Between|Despite|Although|Because|Where|Which|What|Who|"
    r"Why|How|Earlier|Later|Last|Next|Former|Late|Unlike|Like|According|With|Without|"
    rf"Chief|Head|Deputy|Acting|Foreign|Defen[cs]e|Interior|{_TITLES}) )+"
)


@dataclass(frozen=True)
class Discovery:
    """Names found by their context: typed entities, and the names left untyped."""

    entity: pl.DataFrame
    candidate_names: list[str]


def discover(texts: pl.DataFrame, gazetteer: Gazetteer) -> Discovery:
    """Capitalised names in bodies and comments that no surface form covers: typed by a clear
    cue (`the village of X` -> LOC, `X Army` -> ORG, `President X` -> PERSON) they become
    entities with source 'discovered'; the rest are candidate names. Titles are left out:
    their Title Case makes every word look like a name."""
    prose = texts.filter(pl.col("field") != "title").select("text")
    found = [
        _extract(prose, pattern, SCANS.get(pattern)).with_columns(
            type=pl.lit(kind), cue=pl.lit(cue)
        )
        for pattern, kind, cue in CUES
    ]
    typed = pl.concat(found)
    typed = _clean(typed, gazetteer).filter(
        pl.when(pl.col("cue") == "organisation word")
        .then(pl.col("distinctive_before_suffix") | (pl.col("capitalised_before_suffix") >= 2))
        .when(pl.col("cue") == "place name")
        .then(pl.col("distinctive_before_suffix"))
        .when(pl.col("cue").is_in(["organisation of", "group name"]))
        .then(True)
        .when(pl.col("cue") == "speech")
        .then(pl.col("every_word_distinctive"))
        .otherwise(pl.col("distinctive"))
    )
    typed = typed.filter(~pl.col("name").is_in(_inside_known_names(typed["name"], gazetteer)))
    votes = (
        typed.group_by("name", "type")
        .len()
        .sort("len", "type", descending=[True, False])
        .unique("name", keep="first")
        .sort("name")
    )
    taken = set(gazetteer.entities["entity_id"])
    entity_ids = []
    for name, kind in votes.select("name", "type").iter_rows():
        entity_id = discovered_id(name, kind)
        while entity_id in taken:
            entity_id += "-discovered"
        entity_ids.append(entity_id)
    entity = conform(
        votes.with_columns(
            entity_id=pl.Series(entity_ids, dtype=pl.String()),
            wikidata_id=pl.lit(None, dtype=pl.String()),
            source=pl.lit("discovered"),
        ),
        "entity",
    )
    untyped = _clean(
        _extract(prose, _MID_SENTENCE).with_columns(cue=pl.lit("mid-sentence")), gazetteer
    ).filter("distinctive", ~pl.col("name").is_in(votes["name"].implode()))
    names = set(untyped["name"])
    return Discovery(entity, sorted(names - set(_holding_known_names(names, gazetteer, "any"))))


def _inside_known_names(names: pl.Series, gazetteer: Gazetteer) -> list[str]:
    """Names that are part of a longer gazetteer name (`Ministry of National Defense` in
    `Turkish Ministry of National Defense`), or that hold a known person or organisation
    (`al-Qaeda-linked Turkistan Islamic Party`): the gazetteer has them already."""
    unique = names.unique().to_list()
    if not unique:
        return []
    known = pl.DataFrame({"text": ["\n".join(gazetteer.entity_of_surface)]})
    part_of_known = set(known["text"].str.extract_many(unique, overlapping=True).explode())
    holding = _holding_known_names(unique, gazetteer, "PERSON or ORG")
    return sorted((part_of_known - set(gazetteer.entity_of_surface)) | set(holding))


def _holding_known_names(names: Iterable[str], gazetteer: Gazetteer, kinds: str) -> list[str]:
    """The names that contain a gazetteer name: of any type, or a PERSON or ORG one."""
    unique = sorted(names)
    holders = pl.DataFrame(
        {"article_id": unique, "comment_id": None, "field": "body", "text": unique},
        schema=TEXT_SCHEMA,
    )
    held = find_mentions(holders, gazetteer).join(gazetteer.entities, on="entity_id")
    if kinds != "any":
        # `OSCE Minsk Group` is a body of the OSCE, not a longer spelling of it.
        at_end = pl.col("char_end") == pl.col("article_id").str.len_chars()
        held = held.filter((pl.col("type") == "PERSON") | ((pl.col("type") == "ORG") & at_end))
    return held["article_id"].unique().to_list()


def _extract(texts: pl.DataFrame, pattern: str, scan: str | None = None) -> pl.DataFrame:
    """The first group of every match of `pattern` in `texts`, one row per match. With `scan`,
    a cheaper pattern that matches a superset finds the stretches to try `pattern` on."""
    matches = (
        texts.select(match=pl.col("text").str.extract_all(scan or pattern))
        .explode("match")
        .drop_nulls()
    )
    if pattern in TITLE_CUES:
        # Capture groups make the long title alternation slow: strip the title instead.
        name = pl.col("match").str.replace(TITLE_PREFIX, "").str.extract_all(_NAME).list.first()
        return matches.select(name=name).drop_nulls()
    if pattern in GROUP_AT:
        return matches.select(name=pl.col("match").str.slice(GROUP_AT[pattern]))
    return matches.select(name=pl.col("match").str.extract(pattern, 1)).drop_nulls()


def _clean(found: pl.DataFrame, gazetteer: Gazetteer) -> pl.DataFrame:
    """Trim openers and possessives; drop names the gazetteer knows; mark names with at least
    one word that is neither an everyday word nor a known non-name (`Russian`, `Monday`)."""
    ordinary = _series_of(gazetteer.ordinary_words)
    not_names = _series_of(gazetteer.not_names)
    word_is_ordinary = (
        pl.element()
        .str.to_lowercase()
        .str.replace_all("’", "'")  # noqa: RUF001
        .str.replace(r"'s$", "")
        .is_in(ordinary)
    )
    trimmed = found.with_columns(
        name=pl.col("name")
        .str.replace(_LEADING_WORDS, "")
        .str.replace(r"(?i)['’]s$", "")  # noqa: RUF001
        .str.strip_chars(" -’'")  # noqa: RUF001
    ).filter(
        pl.col("name").str.len_chars() >= 3,
        ~pl.col("name").is_in(gazetteer.matcher.surfaces.implode()),
        ~pl.col("name").is_in(not_names),
    )
    words = pl.col("name").str.split(" ")
    before_suffix = words.list.head(words.list.len() - 1)
    return trimmed.with_columns(
        distinctive=~words.list.eval(word_is_ordinary).list.all(),
        every_word_distinctive=~words.list.eval(word_is_ordinary).list.any(),
        distinctive_before_suffix=~before_suffix.list.eval(word_is_ordinary).list.all(),
        capitalised_before_suffix=before_suffix.list.eval(
            pl.element().str.contains(r"^\p{Lu}") & ~pl.element().is_in(not_names)
        ).list.sum(),
    )


def discovered_id(name: str, kind: str) -> str:
    """The key of a discovered entity: the same for a name and type in every batch and run,
    and another for any other name or type, in any script (`дамаск-…`, `ḥimṣ-…`)."""
    import hashlib
    import unicodedata

    # Accents go (NFKD, then combining marks dropped); letters of every script stay.
    folded = "".join(
        char
        for char in unicodedata.normalize("NFKD", name.casefold())
        if not unicodedata.combining(char)
    )
    slug = re.sub(r"[\W_]+", "-", folded).strip("-")[:48].strip("-") or "entity"
    # The slug alone is not unique (`Al Bab`, `Al-Bab`); the hash of name and type is.
    digest = hashlib.sha256(f"{kind}\x1f{name}".encode()).hexdigest()[:8]
    return f"{slug}-{digest}"
