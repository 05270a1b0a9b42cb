"""Tests for flows.entities: the gazetteer and the whole-word, longest-match mention finder."""

import csv
import pickle
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from flows import entities
from flows.entities import (
    ENTITY_TYPES,
    GAZETTEER,
    Gazetteer,
    SurfaceMatcher,
    extract_entities,
    find_mentions,
    load_gazetteer,
    match_spans,
    text_fields,
)
from flows.parse import parse_pages
from flows.schema import polars_schema

TESTS = Path(__file__).resolve().parent
SAMPLE_PAGES = TESTS.parent / "sample_pages"
COMMENT_INPUT_SCHEMA = pl.Schema(
    {"article_id": pl.String(), "comment_id": pl.String(), "body": pl.String()}
)
ARTICLE_INPUT_SCHEMA = pl.Schema(
    {"article_id": pl.String(), "title": pl.String(), "body": pl.String()}
)
NO_COMMENTS = pl.DataFrame(schema=COMMENT_INPUT_SCHEMA)


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return load_gazetteer()


def body_mentions(gazetteer: Gazetteer, body: str) -> list[tuple[str, str]]:
    """(entity_id, surface) of every mention in one article body, in text order."""
    article = pl.DataFrame(
        {"article_id": ["a1"], "title": [None], "body": [body]}, schema=ARTICLE_INPUT_SCHEMA
    )
    mentions = find_mentions(text_fields(article, NO_COMMENTS), gazetteer)
    return mentions.sort("char_start").select("entity_id", "surface").rows()


# Matching


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("Idlibians marched in the square.", [], id="idlibians-not-idlib"),
        pytest.param("Syrians and Russians agreed.", [], id="demonyms-not-countries"),
        pytest.param("USAID sent tents to MUSA camp.", [], id="us-inside-a-word"),
        pytest.param("The Assads ruled long.", [], id="plural-of-a-name"),
        pytest.param("Idlib, Idlib. (Idlib)", [("idlib", "Idlib")] * 3, id="punctuation-around"),
        pytest.param("Idlib-based groups", [("idlib", "Idlib")], id="hyphen-after"),
        pytest.param("anti-Turkey protests", [("turkey", "Turkey")], id="hyphen-before"),
        # A digit or a combining mark is part of a word; so is a letter of any script and
        # byte width (2, 3 and 4 bytes in UTF-8) on either side.
        pytest.param("Idlib2 and 3Idlib", [], id="digits-around"),
        pytest.param("Idlib\u0301 and a\u0301Idlib", [], id="combining-marks-around"),
        # U+0915 (Devanagari) is a 3-byte letter whose first byte is 0xE0, the lowest.
        pytest.param(
            "\u00e9Idlib \u4e2dIdlib \U0001d400Idlib \u0915Idlib", [], id="letters-before"
        ),
        pytest.param("Idlib\u00e9 Idlib\u4e2d Idlib\U0001d400 Idlib\u0915", [], id="letters-after"),
        pytest.param("Idlib\U0001d400\u00e9", [], id="4-byte-letter-then-2-byte-after"),
        pytest.param("aIdlib", [], id="one-letter-before-at-the-start"),
        pytest.param("x_Idlib Idlib_x", [("idlib", "Idlib")] * 2, id="underscore-around"),
        pytest.param(
            "\u00abIdlib\u00bb \u2014Idlib\u2014", [("idlib", "Idlib")] * 2, id="quotes-dashes"
        ),
    ],
)
def test_surface_forms_match_whole_words_only(
    gazetteer: Gazetteer, body: str, expected: list[tuple[str, str]]
) -> None:
    assert body_mentions(gazetteer, body) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "Shelling hit Greater Idlib again.",
            [("greater-idlib", "Greater Idlib")],
            id="greater-idlib",
        ),
        pytest.param(
            "The Russian Military Police arrived.",
            [("russian-military-police", "Russian Military Police")],
            id="russian-military-police",
        ),
        pytest.param(
            "Traffic on the M4 highway resumed.",
            [("m4-highway", "M4 highway")],
            id="m4-highway",
        ),
        pytest.param(
            "Hafez al-Assad, not Bashar al-Assad.",
            [("hafez-al-assad", "Hafez al-Assad"), ("bashar-al-assad", "Bashar al-Assad")],
            id="full-names-over-family-name",
        ),
    ],
)
def test_longest_overlapping_match_wins(
    gazetteer: Gazetteer, body: str, expected: list[tuple[str, str]]
) -> None:
    assert body_mentions(gazetteer, body) == expected


def test_aliases_and_misspellings_link_to_one_entity(gazetteer: Gazetteer) -> None:
    body = "Erdogan, Erdoğan, Erdogon and Recep Tayyip Erdogan are one man."

    mentions = body_mentions(gazetteer, body)

    assert mentions == [
        ("recep-tayyip-erdogan", "Erdogan"),
        ("recep-tayyip-erdogan", "Erdoğan"),
        ("recep-tayyip-erdogan", "Erdogon"),
        ("recep-tayyip-erdogan", "Recep Tayyip Erdogan"),
    ]
    names = gazetteer.entities.filter(pl.col("entity_id") == "recep-tayyip-erdogan")
    assert names.select("name", "type").rows() == [("Recep Tayyip Erdoğan", "PERSON")]


@pytest.mark.parametrize(
    "body", ["Syria\u2019s future", "Syria's future"], ids=["curly", "straight"]
)
def test_possessive_matches_the_name(gazetteer: Gazetteer, body: str) -> None:
    assert body_mentions(gazetteer, body) == [("syria", "Syria")]


def test_us_backed_matches_the_united_states(gazetteer: Gazetteer) -> None:
    mentions = body_mentions(gazetteer, "U.S.-backed fighters and US-led strikes")

    assert mentions == [("united-states", "U.S."), ("united-states", "US")]
    united_states = gazetteer.entities.filter(pl.col("entity_id") == "united-states")
    assert united_states.select("name", "type", "wikidata_id").rows() == [
        ("United States", "LOC", "Q30")
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("مرحبا بكم — Putin met Erdoğan in Saraqib.", id="arabic-before"),
        pytest.param("Séamus Ó Néill 🙂 wrote: Putin met Erdoğan in Saraqib.", id="accents-emoji"),
        pytest.param("Привет! Putin met Erdoğan in Saraqib.", id="cyrillic-before"),
    ],
)
def test_offsets_are_characters_that_slice_back_to_the_surface(
    gazetteer: Gazetteer, body: str
) -> None:
    article = pl.DataFrame(
        {"article_id": ["a1"], "title": [None], "body": [body]}, schema=ARTICLE_INPUT_SCHEMA
    )

    mentions = find_mentions(text_fields(article, NO_COMMENTS), gazetteer)

    assert mentions["surface"].to_list() == ["Putin", "Erdoğan", "Saraqib"]
    start = body.index("Putin")
    assert mentions.select("char_start", "char_end").rows() == [
        (start, start + 5),
        (start + 10, start + 17),
        (start + 21, start + 28),
    ]
    for char_start, char_end, surface in mentions.select(
        "char_start", "char_end", "surface"
    ).rows():
        assert body[char_start:char_end] == surface


def test_mentions_carry_their_field_and_comment(gazetteer: Gazetteer) -> None:
    article = pl.DataFrame(
        {
            "article_id": ["a1", "a2"],
            "title": ["Talks In Moscow", None],
            "body": ["Lavrov spoke first.", "No names here."],
        },
        schema=ARTICLE_INPUT_SCHEMA,
    )
    comment = pl.DataFrame(
        {
            "article_id": ["a1", "a1", "a2"],
            "comment_id": ["c1", "c2", "c3"],
            "body": ["And Hezbollah?", "nothing to see", "Putin and Putin again"],
        },
        schema=COMMENT_INPUT_SCHEMA,
    )

    mentions = find_mentions(text_fields(article, comment), gazetteer)

    expected = pl.DataFrame(
        {
            "entity_id": ["moscow", "sergey-lavrov", "hezbollah"] + ["vladimir-putin"] * 2,
            "article_id": ["a1", "a1", "a1", "a2", "a2"],
            "comment_id": [None, None, "c1", "c3", "c3"],
            "field": ["title", "body", "comment", "comment", "comment"],
            "char_start": [9, 0, 4, 0, 10],
            "char_end": [15, 6, 13, 5, 15],
            "surface": ["Moscow", "Lavrov", "Hezbollah", "Putin", "Putin"],
            "extractor": ["gazetteer"] * 5,
        },
        schema={k: v for k, v in polars_schema("entity_mention").items() if k != "mention_id"},
    )
    assert_frame_equal(mentions.drop("mention_id"), expected, check_row_order=False)
    assert mentions["mention_id"].n_unique() == mentions.height
    again = find_mentions(text_fields(article, comment), gazetteer)
    assert_frame_equal(mentions, again)


def test_no_text_gives_an_empty_frame_with_the_table_columns(gazetteer: Gazetteer) -> None:
    article = pl.DataFrame(
        {"article_id": ["a1"], "title": [None], "body": [None]}, schema=ARTICLE_INPUT_SCHEMA
    )

    mentions = find_mentions(text_fields(article, NO_COMMENTS), gazetteer)

    assert mentions.is_empty()
    assert mentions.schema == polars_schema("entity_mention")


# The gazetteer


def test_gazetteer_gives_every_surface_form_to_one_entity_of_a_known_type() -> None:
    with GAZETTEER.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    owners: dict[str, set[str]] = {}
    for row in rows:
        aliases = [alias.strip() for alias in row["aliases"].split("|") if alias.strip()]
        for surface in (row["name"], *aliases):
            owners.setdefault(surface, set()).add(row["entity_id"])

    assert {surface: ids for surface, ids in owners.items() if len(ids) > 1} == {}
    assert {row["type"] for row in rows} <= set(ENTITY_TYPES)
    assert len({row["entity_id"] for row in rows}) == len(rows)
    curated = load_gazetteer(base=None)
    assert curated.entities.height == len(rows)
    expected = {s: ids.pop() for s, ids in owners.items()}
    assert {s: curated.entity_of_surface[s] for s in expected} == expected


def test_load_gazetteer_refuses_a_surface_form_claimed_twice(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.csv"
    path.write_text(
        "entity_id,name,type,wikidata_id,aliases\n"
        "georgia-country,Georgia,LOC,,Sakartvelo\n"
        "georgia-state,Georgia (U.S. state),LOC,,Georgia\n",
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="'Georgia' names both georgia-country and georgia-state"):
        load_gazetteer(path)


def test_load_gazetteer_refuses_an_entity_on_two_rows(tmp_path: Path) -> None:
    path = tmp_path / "gazetteer.csv"
    path.write_text(
        "entity_id,name,type,wikidata_id,aliases\n"
        "aleppo,Aleppo,LOC,,Halab\n"
        "aleppo,Aleppo City,LOC,,\n",
        encoding="utf-8",
    )

    with pytest.raises(ValueError, match="entity_id 'aleppo' is on two rows"):
        load_gazetteer(path)


# The sample pages


def test_sample_pages_mention_the_main_actors_and_places(gazetteer: Gazetteer) -> None:
    paths = sorted(SAMPLE_PAGES.glob("*.txt"))
    pages = pl.DataFrame(
        {
            "source_path": [path.name for path in paths],
            "sha256": [f"sha-{path.stem}" for path in paths],
            "text": [path.read_text(encoding="utf-8") for path in paths],
        }
    )
    article, comment, _ = parse_pages(pages)
    texts = text_fields(article, comment)

    mentions = find_mentions(texts, gazetteer)

    assert set(mentions["entity_id"]) >= {
        "vladimir-putin",
        "recep-tayyip-erdogan",
        "idlib",
        "greater-idlib",
        "m4-highway",
        "saraqib",
        "hayat-tahrir-al-sham",
        "jisr-al-shughur",
    }
    assert set(mentions["field"]) == {"title", "body", "comment"}
    located = mentions.join(texts, on=["article_id", "comment_id", "field"], nulls_equal=True)
    assert located.height == mentions.height
    for text, char_start, char_end, surface in located.select(
        "text", "char_start", "char_end", "surface"
    ).rows():
        assert text[char_start:char_end] == surface


# The entity stage: case rules, compounds, scripts, discovery


def extracted(gazetteer: Gazetteer, body: str, comments: tuple[str, ...] = ()):
    article = pl.DataFrame(
        {"article_id": ["a1"], "title": [None], "body": [body]}, schema=ARTICLE_INPUT_SCHEMA
    )
    comment = pl.DataFrame(
        {
            "article_id": ["a1"] * len(comments),
            "comment_id": [f"c{n}" for n in range(len(comments))],
            "body": list(comments),
        },
        schema=COMMENT_INPUT_SCHEMA,
    )
    return extract_entities(text_fields(article, comment), gazetteer)


def named(gazetteer: Gazetteer, body: str) -> list[tuple[str, str, str]]:
    """(name, type, surface) of every mention in one body, discovered ones included."""
    found = extracted(gazetteer, body)
    entities = pl.concat([gazetteer.entities, found.entity])
    return (
        found.mention.join(entities, on="entity_id")
        .sort("char_start")
        .select("name", "type", "surface")
        .rows()
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param("putin and erdogan met", ["Putin", "Erdogan"], id="safe-lower-case"),
        pytest.param("SYRIA AND IRAN", ["SYRIA", "IRAN"], id="upper-case"),
        pytest.param("they ate turkey and us", [], id="unsafe-lower-case"),
        pytest.param("jordan and chad", [], id="everyday-words-stay-case-sensitive"),
        pytest.param("Parisians like Paris", ["Paris"], id="paris-not-parisians"),
    ],
)
def test_case_rules(gazetteer: Gazetteer, body: str, expected: list[str]) -> None:
    surfaces = [surface for _, _, surface in named(gazetteer, body)]
    assert [s.lower() for s in surfaces] == [e.lower() for e in expected]


def test_possessive_and_hyphenated_compounds(gazetteer: Gazetteer) -> None:
    body = "Assad\u2019s troops and U.S.-backed SDF fighters on the Homs-Deir Ezzor highway."

    assert named(gazetteer, body) == [
        ("Bashar al-Assad", "PERSON", "Assad"),
        ("United States", "LOC", "U.S."),
        ("Syrian Democratic Forces", "ORG", "SDF"),
        ("M20 highway", "LOC", "Homs-Deir Ezzor highway"),
    ]


def test_longest_match_wins_over_a_shorter_name_inside(gazetteer: Gazetteer) -> None:
    body = "From Jisr al-Shughur to Greater Idlib, and Idlib city itself."

    assert [name for name, _, _ in named(gazetteer, body)] == [
        "Jisr al-Shughur",
        "Greater Idlib",
        "Idlib",
    ]


def test_a_longer_form_that_runs_into_a_word_falls_back_to_a_shorter_one(
    gazetteer: Gazetteer,
) -> None:
    # `Idlib province` is a surface form, but `provinces` is another word.
    assert named(gazetteer, "Idlib provinces") == [("Idlib", "LOC", "Idlib")]


def own_spans(surfaces: list[str], text: str) -> list[tuple[str, int, int]]:
    """(surface, char_start, char_end) of the matches of `surfaces` alone in one body."""
    frame = pl.DataFrame({"field": ["body"], "text": [text]})
    spans = match_spans(frame, dict.fromkeys(surfaces, "e"), SurfaceMatcher(surfaces))
    return spans.select("surface", "char_start", "char_end").rows()


@pytest.mark.parametrize(
    ("surfaces", "text", "expected"),
    [
        pytest.param(
            ["Deir", "Deir ez-Zor", "Deir ez-Zor Governorate"],
            "Deir ez-Zor Governorates",
            [("Deir ez-Zor", 0, 11)],
            id="the-longest-of-two-shorter-forms",
        ),
        pytest.param(["Abu Kamal"], "Abu Kamalx", [], id="only-a-surface-form-falls-back"),
        pytest.param(["Q", "Q-Force Unit"], "Q-Force Units", [("Q", 0, 1)], id="one-letter-form"),
        # The shorter form stops before a combining accent: `René` is not `Rene`.
        pytest.param(
            ["Rene", "Rene\u0301 Lavalle"], "Rene\u0301 Lavallex", [], id="mark-after-shorter"
        ),
    ],
)
def test_the_fallback_is_the_longest_shorter_form_that_ends_a_word(
    surfaces: list[str], text: str, expected: list[tuple[str, int, int]]
) -> None:
    assert own_spans(surfaces, text) == expected


def test_no_surface_forms_match_nothing_whatever_the_automaton_holds() -> None:
    frame = pl.DataFrame({"field": ["body"], "text": ["Idlib"]})

    assert match_spans(frame, {}, SurfaceMatcher(["Idlib"])).is_empty()


def test_base_places_and_surnames_are_not_first_names(gazetteer: Gazetteer) -> None:
    body = "Vladimir Rogov said so; Nasser Kanaani agreed. Vladimir is a city."

    surfaces = [(name, surface) for name, _, surface in named(gazetteer, body)]

    assert ("Vladimir", "Vladimir") in surfaces  # the city, standing alone
    assert all(surface != "Nasser" for _, surface in surfaces)
    assert sum(surface == "Vladimir" for _, surface in surfaces) == 1


@pytest.mark.parametrize(
    ("body", "start"),
    [
        pytest.param("\u00e9 Idlib", 2, id="2-byte-before"),
        pytest.param("\u4e2d Idlib", 2, id="3-byte-before"),
        pytest.param("\U0001d400 Idlib", 2, id="4-byte-before"),
        pytest.param("\u4e2d\U0001d400\u00e9 Idlib \u4e2d", 4, id="mixed-before-and-after"),
    ],
)
def test_offsets_count_characters_whatever_their_byte_width(
    gazetteer: Gazetteer, body: str, start: int
) -> None:
    found = extracted(gazetteer, body).mention

    assert found.select("surface", "char_start", "char_end").rows() == [("Idlib", start, start + 5)]


def test_accented_and_non_latin_text_keeps_offsets(gazetteer: Gazetteer) -> None:
    body = "Ердоган — «Erdoğan» met Çavuşoğlu in İstanbul; عفرين and Afrin."

    found = extracted(gazetteer, body)

    surfaces = found.mention.sort("char_start")["surface"].to_list()
    assert surfaces[:2] == ["Erdoğan", "Çavuşoğlu"]
    assert "Afrin" in surfaces
    for start, end, surface in found.mention.select("char_start", "char_end", "surface").rows():
        assert body[start:end] == surface


def test_spellings_and_transliterations_link_to_one_entity(gazetteer: Gazetteer) -> None:
    body = "Saraqib, Sraqib and Saraqeb; Hezbollah, Hizbollah; Deir Ezzor and Deir ez-Zor."

    names = [name for name, _, _ in named(gazetteer, body)]

    assert names == ["Saraqib"] * 3 + ["Hezbollah"] * 2 + ["Deir ez-Zor"] * 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "Clashes hit the village of Kafr Zulqarnayn at dawn.",
            ("Kafr Zulqarnayn", "LOC"),
            id="village-of",
        ),
        pytest.param(
            "Fighters of the Jaish al-Mujahideen left.", ("Jaish al-Mujahideen", "ORG"), id="arabic"
        ),
        pytest.param(
            "Units of the Northern Hawks Brigade moved in.",
            ("Northern Hawks Brigade", "ORG"),
            id="x-brigade",
        ),
        pytest.param(
            "A statement by the Ministry of Reconciliation followed.",
            ("Ministry of Reconciliation", "ORG"),
            id="ministry-of",
        ),
        pytest.param(
            "Talks with President Tokayev resumed.", ("Tokayev", "PERSON"), id="president-x"
        ),
        pytest.param(
            "Rockets fell near Tal Hamidiyah overnight.", ("Tal Hamidiyah", "LOC"), id="near-x"
        ),
    ],
)
def test_discovery_types_names_by_their_context(
    gazetteer: Gazetteer, body: str, expected: tuple[str, str]
) -> None:
    found = extracted(gazetteer, body)

    assert found.entity.select("name", "type").rows() == [expected]
    assert found.entity["source"].to_list() == ["discovered"]
    assert found.mention.filter(pl.col("extractor") == "discovery")["surface"].to_list() == [
        expected[0]
    ]


def test_a_discovered_person_is_found_by_surname_in_comments(gazetteer: Gazetteer) -> None:
    found = extracted(
        gazetteer,
        "The spokesman Yahya Sarbani said the drones were new.",
        ("Sarbani always has a new drone",),
    )

    rows = found.mention.join(found.entity, on="entity_id").select("name", "field", "comment_id")
    assert rows.rows() == [("Yahya Sarbani", "body", None), ("Yahya Sarbani", "comment", "c0")]


def test_untyped_names_become_candidates_not_entities(gazetteer: Gazetteer) -> None:
    found = extracted(
        gazetteer,
        "The talks in Geneva were chaired by Zoltar Mendelbaum and Idlib was not discussed.",
    )

    assert found.entity.is_empty()
    assert found.candidate["name"].to_list() == ["Zoltar Mendelbaum"]
    start = found.candidate["char_start"].item()
    assert found.candidate["char_end"].item() == start + len("Zoltar Mendelbaum")
    assert set(found.mention["surface"]) == {"Geneva", "Idlib"}


@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Russian forces and Turkish troops left.", id="demonym-and-forces"),
        pytest.param("The Syrians and the Kurds met on Monday.", id="demonyms-days"),
        pytest.param("Support SouthFront. Click to see the full-size image.", id="chrome"),
    ],
)
def test_demonyms_and_everyday_capitals_are_not_entities(gazetteer: Gazetteer, body: str) -> None:
    found = extracted(gazetteer, body)
    assert found.entity.is_empty()
    assert found.mention.filter(
        pl.col("surface").str.contains("Russian|Turkish|Syrians")
    ).is_empty()


def test_the_gazetteer_automaton_is_built_once_per_process(gazetteer: Gazetteer) -> None:
    # Dask pickles the gazetteer into every task; the copy must not build it again.
    copy = pickle.loads(pickle.dumps(gazetteer))

    assert gazetteer.matcher is gazetteer.matcher
    assert copy.matcher is gazetteer.matcher


# Few letters, many spaces: surfaces overlap each other often, and as whole words.
SURFACES = st.text(alphabet="ab é-", min_size=1, max_size=5)


# 500 generated cases run for the property: the matcher's own tests measure its coverage, and
# tracing every line here would add two thirds to this test's time.
@pytest.mark.no_cover
@settings(max_examples=500, deadline=None)
@given(
    known=st.lists(SURFACES, max_size=10, unique=True),
    batch=st.lists(SURFACES, min_size=1, max_size=10, unique=True),
    texts=st.lists(st.text(alphabet="ab é-\n", max_size=40), min_size=1, max_size=3),
)
# `a b` (the batch's) starts first and cuts `b a` short; the gazetteer's `b c` hid `c d`.
@example(known=["b a"], batch=["a b"], texts=["a b a"])
@example(known=["b c", "c d"], batch=["a b"], texts=["a b c d"])
def test_a_batch_s_own_names_match_as_if_in_one_automaton_with_the_gazetteer_s(
    known: list[str], batch: list[str], texts: list[str]
) -> None:
    owner = dict.fromkeys(known + batch, "e")
    frame = pl.DataFrame({"field": "body", "text": texts})

    in_two = match_spans(frame, owner, SurfaceMatcher(known))
    in_one = match_spans(frame, owner, SurfaceMatcher(owner))

    assert_frame_equal(in_two, in_one)


def test_discovered_entity_ids_are_unique_and_stable_in_any_script(gazetteer: Gazetteer) -> None:
    # Each body is a batch of its own; the same names come back in another order, as in a
    # later run. Non-Latin names once all became the id `entity`, and a clash took a suffix
    # that depended on the batch.
    bodies = [
        "Rockets fell near Дамаск overnight. Troops left the village of Ḥimṣ Qadīm.",
        "Shells hit the village of Tal Şêx. Rockets fell near Алеппо overnight.",
        "Rockets fell near Алеппо overnight. Rockets fell near Дамаск again.",
    ]

    ids: dict[str, set[str]] = {}
    for body in bodies:
        found = extracted(gazetteer, body)
        named = found.mention.join(found.entity, on="entity_id")
        assert (named["surface"] == named["name"]).all()
        for name, entity_id in found.entity.select("name", "entity_id").iter_rows():
            ids.setdefault(name, set()).add(entity_id)

    assert set(ids) == {"Дамаск", "Алеппо", "Ḥimṣ Qadīm", "Tal Şêx"}
    assert all(len(found) == 1 for found in ids.values()), ids
    assert len({next(iter(found)) for found in ids.values()}) == len(ids)


@pytest.mark.parametrize(
    ("name", "other"),
    [
        pytest.param("دمشق", "حلب", id="arabic"),
        pytest.param("Al Bab", "Al-Bab", id="same-slug"),
        pytest.param("Zürich", "Zurich", id="accent"),
        pytest.param("Ελλάδα", "Κρήτη", id="greek"),
    ],
)
def test_discovered_ids_of_different_names_differ(name: str, other: str) -> None:
    from flows.entities import discovered_id

    assert discovered_id(name, "LOC") != discovered_id(other, "LOC")
    assert discovered_id(name, "LOC") == discovered_id(name, "LOC")
    assert discovered_id(name, "LOC") != discovered_id(name, "ORG")


@pytest.mark.parametrize("pattern", sorted(entities.GROUP_AT))
def test_a_name_cut_from_its_match_is_the_pattern_s_group(pattern: str):
    # The labelled documents and the sample pages: prose with names of every cue.
    paths = [*(TESTS / "fixtures" / "entities").glob("*.txt"), *SAMPLE_PAGES.glob("*.txt")]
    texts = pl.DataFrame({"text": [path.read_text(encoding="utf-8") for path in paths]})
    matches = texts.select(pl.col("text").str.extract_all(pattern)).explode("text").drop_nulls()

    cut = entities._extract(texts, pattern)["name"]

    assert len(cut) == len(matches) > 20
    assert cut.to_list() == matches["text"].str.extract(pattern, 1).to_list()
