"""The labeller's training set: which labelled pages it learns from."""

from pathlib import Path

from flows.train_parser import fixture_pages, train


def test_fixture_pages_a_rule_decides_do_not_train_the_labeller(tmp_path: Path) -> None:
    pages = fixture_pages()
    ruled = [gold for gold in pages if not gold.trains_labeller]
    taught = [gold for gold in pages if gold.trains_labeller][:3]

    # The mirror brief, the forum and the blog pages are decided by rules (flows/parse.py).
    assert len(ruled) >= 4
    alone = train(taught, tmp_path / "alone.crfsuite").read_bytes()
    with_ruled = train(taught + ruled, tmp_path / "with_ruled.crfsuite").read_bytes()
    assert with_ruled == alone
    assert train(taught[:2], tmp_path / "fewer.crfsuite").read_bytes() != alone
