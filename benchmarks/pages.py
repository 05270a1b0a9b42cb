"""Deterministic synthetic crawl pages in the shapes of LAYOUTS.md, from invented vocabulary.

python -m benchmarks.pages --count 1000 --out /tmp/pages
"""

import argparse
import random
from collections.abc import Iterator
from pathlib import Path


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split("|"))


# Share of each page kind in a generated crawl: mostly SouthFront wpDiscuz pages like the seeds.
KINDS = {
    "wpdiscuz": 0.55,  # widget chrome, then author-line comments
    "wpdiscuz_bare": 0.15,  # the same comments without widget chrome (seed 002)
    "numbered": 0.08,
    "bullets": 0.04,
    "none": 0.12,  # article only
    "mirror": 0.03,  # no title, single-newline paragraphs, bare comment lines
    "other_site": 0.03,  # a comment layout the parser does not know
}
MAX_COMMENTS = 60

_MONTHS = _split(
    "JANUARY|FEBRUARY|MARCH|APRIL|MAY|JUNE|JULY|AUGUST|SEPTEMBER|OCTOBER|NOVEMBER|DECEMBER"
)
_PLACES = _split(
    "Vardena|Koltsk|Marisol|Tel Harun|Ostrava|Nueva Belmar|Karst|Zelenik|Abu Qasr|Drava|"
    "Lindor|Port Sarel|Qaryat Ilyas|Sevrin|Halvik|Tamsor|Ruvne|Kessin|Morava|Dalbek"
)
_ACTORS = _split(
    "the defence ministry|the regional governor|local sources|the border guard service|"
    "the opposition|government forces|the monitoring mission|the port authority|"
    "the health ministry|militants|the central bank|the railway company|the city council|"
    "the foreign ministry|aid agencies|the coast guard|police|the energy regulator"
)
_THINGS = _split(
    "the highway|the supply route|the bridge|the power plant|the border crossing|"
    "the airbase|the harbour|the grain terminal|the reservoir|the old town|the refinery|"
    "the rail junction|the checkpoint|the market|the pipeline|the industrial zone"
)
_VERBS = _split(
    "announced|reported|denied|confirmed|claimed|warned|said|insisted|admitted|suggested"
)
_EVENTS = _split(
    "a new round of talks|heavy shelling|a joint patrol|an evacuation|a ceasefire|"
    "a blackout|an explosion|new sanctions|a prisoner exchange|a strike|a drone attack|"
    "a supply convoy|mass protests|a flood|a cyber attack"
)
_ADVERBS = _split("on Sunday|overnight|early on Friday|last week|on Tuesday evening|this month")
_NUMBERS = _split("two|three|five|seven|a dozen|twenty|forty|hundreds of|several")
_FIRST = _split(
    "Karen|Tim|Rafik|Xoli|Lena|Marco|Ilse|Jonas|Irina|Ahmet|Sören|Zoë|Séamus|José|Oksana|"
    "Tariq|Priya|Kwame|Hakan|Vera|Björn|Nour|Giulia|Frank|Dmitri|Yusuf|Agnieszka|Rolf|Amira|"
    "Piotr|Hannah|Farid|Kaito|Mehmet|Beatriz|Ewa|Saoirse|Rustam|Bea|Renée|Ólafur|Wojtek"
)
_LAST = _split(
    "Williams|Bartlett|Chauhan|Hoffmann|Bellini|Van Dijk|Weber|Volkova|Yılmaz|Lindahl|"  # noqa: RUF001
    "Ångström|Ó Néill|Müller|Melnyk|Aziz|Raman|Mensah|Öztürk|Lindgren|Eriksson|El-Din|Romano|"
    "Osei|Kowalczyk|Kelly|Nazarov|Nowak|Jensen|Zieliński|Haddad|Mori|Kaya|Lopes|Strand"
)
_HANDLES = _split(
    "Lazy Gamer|Red Pilled ThoughtCrimes|klove and light|Raptar Driver|Porc Halal|"
    "Harbour Watcher|Capt. Obvious|Who said it was me?|Willing Conscience (The Truths|"
    "Voice Of Reason (Sometimes|johnny rotten|desert fox|Lone Ranger|Dev Patel 77"
)
_OPINIONS = _split(
    "This was obvious from the start|Nobody believes these statements any more|"
    "I can`t see how this ends well|It´s the same story every year|Good news at last|"  # noqa: RUF001
    "They will never learn|Who is paying for all this|The media will not report it|"
    "Let us wait and see what happens next week|Exactly what I said a month ago|"
    "Thanks for the update|This is getting more and more ridiculous"
)
_REPLIES = _split(
    "Source?|lol|Agreed.|Su 34s|Tu 95s|Exactly!!!|Not so sure about that…|Thanks, Tim.|"
    "Nonsense.|Well said|Mi 8|Time will tell"
)
_FOREIGN = _split(
    "Çok doğru, katılıyorum.|Это было понятно с самого начала.|لا أحد يصدق هذا بعد الآن.|"  # noqa: RUF001
    "C’est toujours la même histoire.|Das war doch klar.|Esto no va a terminar bien."  # noqa: RUF001
)
_CAPTIONS = _split(
    "Click to see the full-size image|Click to see the full-size map|"
    "Click to see full-size map.|Click to see full-size image"
)
_OTHER_CHROME = _split(
    "Illustrative image|ILLUSTRATIVE IMAGE.|Illustrative image, source: a news agency|"
    "file image|IMAGE: a photo agency|FILE PHOTO: a photo agency"
)


class _Writer:
    """Sentences, paragraphs and names drawn from the invented vocabulary with one random
    generator, so a seed always gives the same pages."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.choice = rng.choice

    @staticmethod
    def _upper_first(text: str) -> str:
        return text[:1].upper() + text[1:]

    def sentence(self) -> str:
        choice = self.choice
        form = self.rng.randrange(5)
        if form == 0:
            text = (
                f"{self._upper_first(choice(_ADVERBS))}, {choice(_ACTORS)} {choice(_VERBS)} "
                f"{choice(_EVENTS)} near {choice(_THINGS)} in {choice(_PLACES)}"
            )
        elif form == 1:
            text = (
                f"According to {choice(_ACTORS)}, {choice(_NUMBERS)} people were affected by "
                f"{choice(_EVENTS)} {choice(_ADVERBS)}"
            )
        elif form == 2:
            text = (
                f"{self._upper_first(choice(_ACTORS))} {choice(_VERBS)} that {choice(_THINGS)} "
                f"would remain closed until {choice(_EVENTS)} is over"
            )
        elif form == 3:
            text = (
                f"The situation around {choice(_THINGS)} of {choice(_PLACES)} remains tense, "
                f"and {choice(_ACTORS)} expect {choice(_EVENTS)} in the coming days"
            )
        else:
            text = (
                f"In {choice(_PLACES)}, {choice(_NUMBERS)} vehicles were seen moving towards "
                f"{choice(_THINGS)}, {choice(_ACTORS)} {choice(_VERBS)}"
            )
        return text + "."

    def paragraph(self, low: int = 2, high: int = 6) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(low, high)))

    def title(self) -> str:
        choice = self.choice
        words = (
            f"{choice(_ACTORS)} {choice(_VERBS)} {choice(_EVENTS)} near {choice(_THINGS)} "
            f"in {choice(_PLACES)}"
        )
        title = " ".join(word.capitalize() for word in words.split())
        return title + self.choice(("", "", "", " (Photos)", " (Video)", "?", "!"))

    def name(self) -> str:
        if self.rng.random() < 0.25:
            return self.choice(_HANDLES)
        return f"{self.choice(_FIRST)} {self.choice(_LAST)}"

    def comment_paragraphs(self) -> list[str]:
        roll = self.rng.random()
        if roll < 0.15:
            return [self.choice(_REPLIES)]
        if roll < 0.25:
            return [self.choice(_FOREIGN)]
        paragraphs = [f"{self.choice(_OPINIONS)}. {self.paragraph(1, 3)}"]
        while self.rng.random() < 0.2:
            paragraphs.append(self.paragraph(1, 4))
        return paragraphs


def _header(writer: _Writer) -> str:
    """Donation banner and month line, each optional, and the blank line after them."""
    rng = writer.rng
    lines = []
    if rng.random() < 0.6:
        amounts = ["0 $", f"{rng.randrange(1, 60) * 100:,} $", f"{rng.randrange(1, 80) * 100:,} $"]
        lines += amounts + (["100 $"] if rng.random() < 0.7 else [])
    if rng.random() < 0.7:
        lines.append(f"{writer.choice(_MONTHS)} {rng.randint(2018, 2025)}")
    return "\n".join(lines) + "\n\n" if lines else ""


def _article(writer: _Writer, title: str | None, size: int, sep: str = "\n\n") -> str:
    """Title, chrome and body paragraphs of about `size` characters."""
    rng = writer.rng
    parts = []
    if title is not None:
        parts.append(title)
    if rng.random() < 0.5:
        parts.append("Support SouthFront")
    if title is not None and rng.random() < 0.6:
        parts += [title, writer.choice(_CAPTIONS)]
    length = 0
    while length < size:
        paragraph = writer.paragraph()
        parts.append(paragraph)
        length += len(paragraph)
        roll = rng.random()
        if title is not None and roll < 0.1:
            parts += [title, writer.choice(_CAPTIONS)]
        elif roll < 0.15:
            parts.append(writer.choice(_OTHER_CHROME))
    if rng.random() < 0.1:
        parts.append("Do you like this content? Consider helping us!")
        parts.append("PayPal: the donation address and links")
    if rng.random() < 0.1:
        links = [f"  {n}. In Video: {writer.title()}" for n in range(1, rng.randint(2, 5))]
        parts.append("More on this topic:\n\n" + "\n".join(links))
    if rng.random() < 0.5:
        parts.append("Support SouthFront")
    return sep.join(parts)


def _authors(writer: _Writer) -> list[str | None]:
    """Who posts on one page: a few regulars who post again, and author-less comments."""
    return [writer.name() for _ in range(writer.rng.randint(2, 12))] + [None]


def _wpdiscuz(writer: _Writer, size: int, chrome: bool) -> str:
    rng = writer.rng
    pool = _authors(writer)
    parts = []
    if chrome:
        widget = ["Notify of"] + (["Newest Most Voted"] if rng.random() < 0.8 else [])
        parts.append("\n".join([*widget, "Inline Feedbacks", "View all comments"]))
    length = 0
    count = 0
    while length < size and count < MAX_COMMENTS:
        author = writer.choice(pool)
        body = "\n\n".join(writer.comment_paragraphs())
        if author is None:
            block = "\n" * rng.randint(1, 2) + body
        else:
            block = ("\n" if rng.random() < 0.2 else "") + f"{author}\n\n{body}"
        parts.append(block)
        length += len(block)
        count += 1
    text = "\n\n".join(parts)
    if chrome:
        # The widget chrome ends the body without a blank line before the first author.
        text = text.replace("View all comments\n\n", "View all comments\n", 1)
        if rng.random() < 0.7:
            text += "\n\nWould love your thoughts, please comment.x"
    return text


def _thread(writer: _Writer, size: int, bullets: bool) -> str:
    rng = writer.rng
    pool = [name for name in _authors(writer) if name is not None]
    lines: list[str] = []
    numbers = [0]
    depth = 0
    length = 0
    count = 0
    while length < size and count < MAX_COMMENTS:
        depth = rng.randint(0, min(depth + 1, 3)) if count else 0
        del numbers[depth + 1 :]
        while len(numbers) <= depth:
            numbers.append(0)
        numbers[depth] += 1
        indent = "  " * (depth + 1)
        author = writer.choice(pool)
        paragraphs = writer.comment_paragraphs()
        if bullets:
            text = f"\n{indent}  ".join(paragraphs)
            block = f"{indent}• {author}\n{indent}  {text}"
        else:
            text = f"\n\n{indent}  ".join(paragraphs)
            block = f"{indent}{numbers[depth]}. {author} says:\n\n{indent}  {text}"
        lines.append(block)
        length += len(block)
        count += 1
    return "\n\n".join(lines)


def _other_site(writer: _Writer, size: int) -> str:
    rng = writer.rng
    parts = [f"{rng.randint(2, 40)} Comments", "Sort by: Top | Newest"]
    length = 0
    while length < size:
        block = (
            f"{writer.name()} · {rng.randint(1, 23)} hours ago\n"
            f"{' '.join(writer.comment_paragraphs())}\nReply · Like ({rng.randint(0, 30)})"
        )
        parts.append(block)
        length += len(block)
    return "\n\n".join(parts)


def _page(writer: _Writer, kind: str) -> str:
    rng = writer.rng
    size = rng.randint(5_000, 15_000)
    has_comments = kind != "none"
    body_size = rng.randint(1_500, 5_000) if has_comments else size
    comment_size = size - body_size
    if kind == "mirror":
        article = _article(writer, None, body_size, sep="\n")
        bare = "\n".join(writer.choice(_REPLIES + _FOREIGN) for _ in range(rng.randint(0, 8)))
        return f"{article}\n{bare}\n" if bare else article + "\n"
    title = writer.title() if rng.random() < 0.97 else None
    page = _header(writer) + _article(writer, title, body_size)
    if kind in ("wpdiscuz", "wpdiscuz_bare"):
        section = _wpdiscuz(writer, comment_size, chrome=kind == "wpdiscuz")
    elif kind in ("numbered", "bullets"):
        section = _thread(writer, comment_size, bullets=kind == "bullets")
    elif kind == "other_site":
        section = _other_site(writer, comment_size)
    else:
        return page + "\n" * rng.randint(1, 4)
    return f"{page}\n\n\n{section}\n"


def generate_pages(count: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    """`count` pages as (file name, text), the same for the same seed."""
    rng = random.Random(seed)
    writer = _Writer(rng)
    kinds = list(KINDS)
    weights = list(KINDS.values())
    for number in range(count):
        kind = rng.choices(kinds, weights)[0]
        yield f"{number:06d}_{kind}.txt", _page(writer, kind)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000, help="how many pages (1000)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write them to")
    parser.add_argument("--seed", type=int, default=0, help="random seed (0)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    total = 0
    for name, text in generate_pages(args.count, args.seed):
        total += (args.out / name).write_bytes(text.encode())
    print(f"Wrote {args.count:,} pages, {total / 1e6:.1f} MB, to {args.out}")


if __name__ == "__main__":
    main()
