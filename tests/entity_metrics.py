"""Entity quality on the labelled documents in tests/fixtures/entities, scored as issue 4 scores.

Each document has a title, a body and comments; the article part (title and body) and the
comment part are scored separately. Within a part, every predicted entity (entity_id) is one
prediction with its canonical name, type and the surface forms it was found under; a gold
entity is matched by a prediction when any of its names equals the prediction's name or one of
its surface forms (each prediction matches one gold entity at most). Typed scores also require
the type to agree.

python tests/entity_metrics.py   prints the table
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from flows.entities import Gazetteer, extract_entities, load_gazetteer

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "entities"
GOLD = FIXTURES / "gold.csv"
TYPES = ("PERSON", "ORG", "LOC")
PARTS = ("article", "comment")
# Issue 4's thresholds (spaCy en_core_web_sm: 0.734 and 0.590 on the team's pages).
ENTITY_SET_F1_TARGET = 0.80
TYPED_F1_TARGET = 0.72


@dataclass(frozen=True)
class GoldEntity:
    type: str
    names: frozenset[str]


@dataclass(frozen=True)
class Predicted:
    name: str
    type: str
    surfaces: frozenset[str]

    def answers(self, gold: GoldEntity) -> bool:
        return bool(gold.names & ({self.name} | self.surfaces))


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, other: "Counts") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Scores:
    """Counts by (part, kind) where kind is 'entity-set', 'typed' or a type."""

    counts: dict[tuple[str, str], Counts] = field(default_factory=lambda: defaultdict(Counts))
    misses: list[str] = field(default_factory=list)
    extras: list[str] = field(default_factory=list)

    def total(self, kind: str, part: str | None = None) -> Counts:
        total = Counts()
        for (counted_part, counted_kind), counts in self.counts.items():
            if counted_kind == kind and part in (None, counted_part):
                total.add(counts)
        return total


def labelled_documents() -> dict[str, dict[str, list[str]]]:
    """{doc: {'title': [...], 'body': [...], 'comment': [...]}} from the fixture files, whose
    sections start with `## title`, `## body` and `## comment` lines."""
    return {path.name[:2]: _sections(path) for path in sorted(FIXTURES.glob("*.txt"))}


def _sections(path: Path) -> dict[str, list[str]]:
    sections: dict[str, list[str]] = {"title": [], "body": [], "comment": []}
    name = None
    lines: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), "## end"]:
        if line.startswith("## "):
            if name is not None:
                sections[name].append("\n".join(lines).strip())
            name, lines = line[3:].strip(), []
        else:
            lines.append(line)
    return sections


def gold_entities() -> dict[tuple[str, str], list[GoldEntity]]:
    gold: dict[tuple[str, str], list[GoldEntity]] = defaultdict(list)
    with GOLD.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names = frozenset(name.strip() for name in row["names"].split("|"))
            gold[(row["doc"], row["part"])].append(GoldEntity(row["type"], names))
    return gold


def texts_frame(documents: dict[str, dict[str, list[str]]]) -> pl.DataFrame:
    """The entity stage's input: one row per title, body and comment of every document."""
    rows = []
    for doc, sections in documents.items():
        for field_name in ("title", "body", "comment"):
            for number, text in enumerate(sections[field_name]):
                comment_id = f"{doc}-c{number}" if field_name == "comment" else None
                rows.append((doc, comment_id, field_name, text))
    return pl.DataFrame(
        rows,
        schema={
            "article_id": pl.String,
            "comment_id": pl.String,
            "field": pl.String,
            "text": pl.String,
        },
        orient="row",
    )


def predictions(gazetteer: Gazetteer | None = None) -> dict[tuple[str, str], list[Predicted]]:
    """What the entity stage finds in each document part."""
    gazetteer = gazetteer or load_gazetteer()
    found = extract_entities(texts_frame(labelled_documents()), gazetteer)
    entities = pl.concat([gazetteer.entities, found.entity])
    grouped = (
        found.mention.join(entities, on="entity_id")
        .with_columns(
            part=pl.when(pl.col("field") == "comment")
            .then(pl.lit("comment"))
            .otherwise(pl.lit("article"))
        )
        .group_by("article_id", "part", "entity_id", "name", "type")
        .agg(pl.col("surface").unique())
    )
    predicted: dict[tuple[str, str], list[Predicted]] = defaultdict(list)
    for doc, part, _, name, kind, surfaces in grouped.sort("article_id", "entity_id").iter_rows():
        predicted[(doc, part)].append(Predicted(name, kind, frozenset(surfaces)))
    return predicted


def match(
    gold: list[GoldEntity], predicted: list[Predicted], typed: bool
) -> tuple[list[GoldEntity], list[Predicted]]:
    """The gold entities no prediction answers, and the predictions that answer none."""
    unused = list(predicted)
    missed = []
    for entity in gold:
        hit = next(
            (p for p in unused if p.answers(entity) and (not typed or p.type == entity.type)),
            None,
        )
        if hit is None:
            missed.append(entity)
        else:
            unused.remove(hit)
    return missed, unused


def score(
    gold: dict[tuple[str, str], list[GoldEntity]],
    predicted: dict[tuple[str, str], list[Predicted]],
) -> Scores:
    scores = Scores()
    for key in sorted(set(gold) | set(predicted)):
        doc, part = key
        gold_part, predicted_part = gold.get(key, []), predicted.get(key, [])
        missed, extra = match(gold_part, predicted_part, typed=False)
        scores.counts[(part, "entity-set")].add(
            Counts(len(gold_part) - len(missed), len(extra), len(missed))
        )
        missed, extra = match(gold_part, predicted_part, typed=True)
        scores.counts[(part, "typed")].add(
            Counts(len(gold_part) - len(missed), len(extra), len(missed))
        )
        scores.misses += [f"{doc} {part} {e.type} {'|'.join(sorted(e.names))}" for e in missed]
        scores.extras += [f"{doc} {part} {p.type} {p.name} {sorted(p.surfaces)}" for p in extra]
        for kind in TYPES:
            gold_typed = [e for e in gold_part if e.type == kind]
            predicted_typed = [p for p in predicted_part if p.type == kind]
            missed, extra = match(gold_typed, predicted_typed, typed=True)
            scores.counts[(part, kind)].add(
                Counts(len(gold_typed) - len(missed), len(extra), len(missed))
            )
    return scores


def report(scores: Scores) -> str:
    lines = [f"{'':12} {'part':8} {'P':>6} {'R':>6} {'F1':>6} {'gold':>5}"]
    for kind in ("entity-set", "typed", *TYPES):
        for part in (*PARTS, None):
            counts = scores.total(kind, part)
            lines.append(
                f"{kind:12} {part or 'all':8} {counts.precision:6.3f} {counts.recall:6.3f} "
                f"{counts.f1:6.3f} {counts.tp + counts.fn:5d}"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    result = score(gold_entities(), predictions())
    print(report(result))
    print("\nmissed:\n  " + "\n  ".join(result.misses))
    print("\nwrong or extra:\n  " + "\n  ".join(result.extras))
