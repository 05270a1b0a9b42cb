"""A crawl folder of any size re-mixed from the bundled sample pages.

python -m benchmarks.corpus --count 100000 --out /tmp/crawl

Titles are new (headline-cased openings of sample sentences); body paragraphs, commenters
and comments are drawn from the sample pages and re-mixed; pages run from 2 KB to 20 KB in
the layouts of LAYOUTS.md (`benchmarks.pages` shapes them), 1,000 to a sub-folder
`part-NNN/`, so that the first N/1,000 folders hold a crawl of N pages.
"""

import argparse
import math
import random
import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from benchmarks import pages
from flows.parse import parse_pages
from flows.settings import SAMPLE_INPUT

PER_FOLDER = 1_000
# Page sizes aimed at; the last paragraph or comment of a page may overshoot by a little.
MIN_CHARS, MAX_CHARS = 2_000, 18_000
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SMALL_WORDS = {"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the", "to"}


class SeedWriter(pages._Writer):
    """The benchmark writer's paragraphs, titles, names and comments, taken from the sample
    pages instead of invented vocabulary: real names, real entity density."""

    def __init__(self, rng: random.Random) -> None:
        super().__init__(rng)
        frame = pl.DataFrame(
            [
                (path.name, str(number), path.read_text(encoding="utf-8"))
                for number, path in enumerate(sorted(SAMPLE_INPUT.glob("*.txt")))
            ],
            schema={"source_path": pl.String(), "sha256": pl.String(), "text": pl.String()},
            orient="row",
        )
        article, comment, _ = parse_pages(frame)
        self.paragraphs = [
            paragraph.strip()
            for body in article["body"]
            for paragraph in body.split("\n\n")
            if len(paragraph.strip()) > 80
        ]
        self.sentences = [
            sentence
            for paragraph in self.paragraphs
            for sentence in _SENTENCE_END.split(paragraph)
            if len(sentence.split()) >= 8
        ]
        self.authors = sorted(set(comment["author"].drop_nulls()))
        self.comments = [
            body.split("\n\n") for body in comment["body"] if body and body.strip() == body
        ]

    def paragraph(self, low: int = 2, high: int = 6) -> str:
        return self.choice(self.paragraphs)

    def title(self) -> str:
        words = self.choice(self.sentences).rstrip(".!?").split()[: self.rng.randint(6, 12)]
        return " ".join(
            word if word.lower() in _SMALL_WORDS and n else word[:1].upper() + word[1:]
            for n, word in enumerate(words)
        )

    def name(self) -> str:
        return self.choice(self.authors)

    def comment_paragraphs(self) -> list[str]:
        return list(self.choice(self.comments))


def _page(writer: SeedWriter, kind: str) -> str:
    """One page of `kind` (see benchmarks.pages.KINDS), 2 KB to 20 KB, more small than large."""
    rng = writer.rng
    size = int(math.exp(rng.uniform(math.log(MIN_CHARS), math.log(MAX_CHARS))))
    if kind == "none":
        return pages._header(writer) + pages._article(writer, writer.title(), size) + "\n"
    body_size = rng.randint(size // 5, size // 2)
    comment_size = size - body_size
    if kind == "mirror":
        article = pages._article(writer, None, size - comment_size // 4, sep="\n")
        bare = "\n".join(writer.choice(writer.comments)[0] for _ in range(rng.randint(0, 8)))
        return f"{article}\n{bare}\n" if bare else article + "\n"
    page = pages._header(writer) + pages._article(writer, writer.title(), body_size)
    if kind in ("wpdiscuz", "wpdiscuz_bare"):
        section = pages._wpdiscuz(writer, comment_size, chrome=kind == "wpdiscuz")
    elif kind in ("numbered", "bullets"):
        section = pages._thread(writer, comment_size, bullets=kind == "bullets")
    else:
        section = pages._other_site(writer, comment_size)
    return f"{page}\n\n\n{section}\n"


def generate(count: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    """`count` pages as (path under the crawl folder, text), the same for the same seed."""
    rng = random.Random(seed)
    writer = SeedWriter(rng)
    kinds = list(pages.KINDS)
    weights = list(pages.KINDS.values())
    for number in range(count):
        kind = rng.choices(kinds, weights)[0]
        yield f"part-{number // PER_FOLDER:03d}/{number:06d}_{kind}.txt", _page(writer, kind)


def write(folder: Path, count: int, seed: int = 0) -> int:
    """Write a crawl of `count` pages under `folder`; return its size in bytes."""
    total = 0
    for name, text in generate(count, seed):
        path = folder / name
        if path.parent != folder and not path.parent.exists():
            path.parent.mkdir(parents=True)
        total += path.write_bytes(text.encode())
    return total


def parts(folder: Path, count: int) -> list[Path]:
    """The sub-folders that hold the first `count` pages of a crawl written by `write`."""
    return [folder / f"part-{n:03d}" for n in range(math.ceil(count / PER_FOLDER))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="how many pages (10000)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write them to")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = parser.parse_args(argv)
    total = write(args.out, args.count, args.seed)
    print(f"Wrote {args.count:,} pages, {total / 1e6:.1f} MB, to {args.out}")


if __name__ == "__main__":
    main()
