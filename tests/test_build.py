"""newsflow_version names the build: two builds that can write different rows differ."""

import re
import shutil
from pathlib import Path

import pytest

from flows import build


def test_the_version_is_the_release_and_a_digest_of_the_build() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+\+[0-9a-f]{12}", build.newsflow_version())


@pytest.mark.parametrize(
    "changed",
    ["flows/parse.py", "sql/load/entity.sql", "expectations/article.json", "flows/reference/x"],
)
def test_any_change_to_code_sql_rules_or_reference_data_changes_the_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changed: str
) -> None:
    for folder in ("flows", "sql", "expectations"):
        shutil.copytree(build.PROJECT_ROOT / folder, tmp_path / folder)
    monkeypatch.setattr(build, "PROJECT_ROOT", tmp_path)
    before = build.newsflow_version.__wrapped__()

    target = tmp_path / changed
    target.write_bytes((target.read_bytes() if target.exists() else b"") + b"\n# changed\n")

    assert build.newsflow_version.__wrapped__() != before
