"""Parser accuracy on labelled pages: `make accuracy`.

Scores the parser as the team's scorer (../shared/tools/score_parse.py) does: titles exact,
body first and last words, comments matched in page order on author and opening words, reply
depth. On the project's fixture pages, on the real pages of ../shared/realpages (all, the
SouthFront family, per layout), and leave-one-site-out: the labeller trained without a
site's pages, then scored on that site.
"""

import argparse
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flows import line_model, parse
from flows.train_parser import (
    REAL_PAGES,
    GoldPage,
    fixture_pages,
    in_order_pairs,
    norm,
    real_pages,
    train,
)


@dataclass
class Tally:
    pages: int = 0
    titles: int = 0
    bodies: int = 0
    gold: int = 0
    predicted: int = 0
    matched: int = 0
    depth_right: int = 0
    misses: list[str] = field(default_factory=list)

    def add(self, other: "Tally") -> None:
        for name in ("pages", "titles", "bodies", "gold", "predicted", "matched", "depth_right"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.misses += other.misses

    def row(self) -> str:
        precision = self.matched / self.predicted if self.predicted else 1.0
        recall = self.matched / self.gold if self.gold else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        depth = self.depth_right / self.matched if self.matched else 1.0
        return (
            f"{self.pages:5d} {self.titles / self.pages:6.3f} {self.bodies / self.pages:6.3f} "
            f"{precision:6.3f} {recall:6.3f} {f1:6.3f} {depth:6.3f}"
        )


HEADER = "pages  title   body  com_P  com_R com_F1  depth"


def _words(text: str | None, n: int | None = None, last: bool = False) -> list[str]:
    words = norm(text).split()
    if n is None:
        return words
    return words[-n:] if last else words[:n]


def score(gold: GoldPage, parsed: parse.ParsedPage) -> Tally:
    """One page scored as the team's scorer scores it."""
    tally = Tally(pages=1, gold=len(gold.comments), predicted=len(parsed.comments))
    tally.titles = int(norm(parsed.title) == norm(gold.title))
    if gold.site.startswith("fixture") and gold.body_first:
        # Fixture labels are the exact opening and closing characters of the body.
        body = norm(parsed.body)
        tally.bodies = int(
            body.startswith(norm(gold.body_first)) and body.endswith(norm(gold.body_last))
        )
    elif gold.body_first:
        first, last = _words(gold.body_first), _words(gold.body_last)
        tally.bodies = int(
            bool(parsed.body)
            and _words(parsed.body, len(first)) == first
            and _words(parsed.body, len(last), last=True) == last
        )
    else:
        tally.bodies = int(not norm(parsed.body))
    pairs = _matched(gold, parsed)
    tally.matched = len(pairs)
    tally.depth_right = sum(gold.comments[i].depth == parsed.comments[j].depth for i, j in pairs)
    if not (tally.titles and tally.bodies and len(pairs) == tally.gold == tally.predicted):
        tally.misses.append(
            f"{gold.name} title={'ok' if tally.titles else 'BAD'} "
            f"body={'ok' if tally.bodies else 'BAD'} comments gold={tally.gold} "
            f"pred={tally.predicted} matched={len(pairs)}"
        )
    return tally


def _matched(gold: GoldPage, parsed: parse.ParsedPage) -> list[tuple[int, int]]:
    def same(i: int, j: int) -> bool:
        expected, found = gold.comments[i], parsed.comments[j]
        if norm(expected.author) != norm(found.author):
            return False
        if gold.site.startswith("fixture"):
            return norm(found.body).startswith(norm(expected.starts))
        opening = _words(expected.starts)
        return not opening or _words(found.body, len(opening)) == opening

    return in_order_pairs(len(gold.comments), len(parsed.comments), same)


def site_of(gold: GoldPage) -> str:
    """The site a page comes from, by its registered domain (southfront.org, yahoo.com)."""
    return ".".join(gold.site.split(".")[-2:])


def scored(pages: Iterable[GoldPage], key: Callable[[GoldPage], str]) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for gold in pages:
        tally = score(gold, parse.parse_page(gold.text))
        tallies["all"].add(tally)
        tallies[key(gold)].add(tally)
    return tallies


def use_model(path: Path) -> None:
    parse.MODEL_PATH = path
    line_model.load.cache_clear()


def leave_one_site_out(
    fixtures: list[GoldPage], real: list[GoldPage], folder: Path
) -> dict[str, Tally]:
    tallies: dict[str, Tally] = defaultdict(Tally)
    for site in sorted({site_of(gold) for gold in real}):
        held_out = [gold for gold in real if site_of(gold) == site]
        rest = [gold for gold in real if site_of(gold) != site]
        use_model(train(fixtures + rest, folder / f"{site}.crfsuite"))
        for name, tally in scored(held_out, family).items():
            tallies[name].add(tally)
    return tallies


def cross_validated(
    fixtures: list[GoldPage],
    real: list[GoldPage],
    folder: Path,
    folds: int = 5,
    key: Callable[[GoldPage], str] | None = None,
) -> dict[str, Tally]:
    """Each real page scored by a labeller trained without it (pages dealt into `folds`)."""
    tallies: dict[str, Tally] = defaultdict(Tally)
    for fold in range(folds):
        held_out = real[fold::folds]
        rest = [gold for number, gold in enumerate(real) if number % folds != fold]
        use_model(train(fixtures + rest, folder / f"fold{fold}.crfsuite"))
        for name, tally in scored(held_out, key or family).items():
            tallies[name].add(tally)
    return tallies


def family(gold: GoldPage) -> str:
    return "southfront" if "southfront" in gold.site else "other"


def _print(label: str, tallies: dict[str, Tally], names: Iterable[str]) -> None:
    for name in names:
        if name in tallies:
            print(f"{label + ', ' + name:44s} {tallies[name].row()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--real-pages", type=Path, default=REAL_PAGES)
    parser.add_argument("--verbose", action="store_true", help="list the pages not right")
    parser.add_argument("--no-held-out", action="store_true", help="skip 5-fold and LOSO")
    args = parser.parse_args()
    if not (args.real_pages / "gold.jsonl").exists():
        raise SystemExit(f"no labelled real pages in {args.real_pages} (--real-pages FOLDER)")
    fixtures = fixture_pages()
    real = real_pages(args.real_pages)
    layouts = sorted({gold.layout for gold in real})
    print(f"{'set':44s} {HEADER}")
    print("The shipped labeller was trained on all of these pages: optimistic figures.")
    _print("fixture pages", scored(fixtures, lambda gold: gold.layout), ["all"])
    shipped = scored(real, family)
    _print("real pages", shipped, ("all", "southfront", "other"))
    if args.verbose:
        print("\n".join(shipped["all"].misses))
    if args.no_held_out:
        return
    print("Each page scored by a labeller trained without it: what to expect on new pages.")
    model = parse.MODEL_PATH
    with tempfile.TemporaryDirectory() as folder:
        folds = cross_validated(fixtures, real, Path(folder))
        by_layout = cross_validated(fixtures, real, Path(folder), key=lambda gold: gold.layout)
        loso = leave_one_site_out(fixtures, real, Path(folder))
    use_model(model)
    _print("5-fold by page", folds, ("all", "southfront", "other"))
    _print("5-fold by page, layout", by_layout, layouts)
    _print("leave-one-site-out", loso, ("all", "southfront", "other"))
    if args.verbose:
        print("\n".join(loso["all"].misses))


if __name__ == "__main__":
    main()
