"""`make mutation`: mutmut over the modules where a silent change hurts users most, per module."""

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = ROOT / ".mutation"
# What a test run needs besides the code (paths are found from flows/ upwards).
SUPPORT = ("sql", "expectations", "sample_pages")
# mutmut's exit codes per mutant (mutmut.stats.status_by_exit_code), grouped for the score.
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NOT_COUNTED = {"skipped", "not checked", "check was interrupted by user"}


@dataclass(frozen=True)
class Target:
    """A module to mutate, the functions of it that matter (all when empty), and the only
    test files run against its mutants."""

    files: tuple[str, ...]
    tests: tuple[str, ...]
    functions: tuple[str, ...] = ()


TARGETS = {
    # The parser's known chrome and author cues (the labeller's model is data, not code).
    "parse": Target(
        ("flows/parse.py",),
        ("tests/test_parse.py",),
        (
            "_mark_header",
            "_known_chrome",
            "_allowed_labels",
            "looks_like_chrome",
            "author_name",
            "_says_name",
            "_without_cut_off_author",
            "reads_like_prose",
        ),
    ),
    # The matcher's word boundaries and character offsets.
    "entities": Target(
        ("flows/entities.py",),
        ("tests/test_entities.py",),
        ("match_spans", "_shorter_whole_words", "_char_before", "_char_after", "_is_word_char"),
    ),
    # The unchanged-file check and a file's identity.
    "extract": Target(
        ("flows/extract.py",),
        ("tests/test_extract.py",),
        ("discover_files", "_stat_or_none", "_mtime_us", "split_unchanged", "drop_unchanged"),
    ),
    "warehouse": Target(("flows/warehouse.py",), ("tests/test_load.py", "tests/test_warehouse.py")),
    # The policy: stop the run, quarantine pages, flag comments, or warn.
    "quality": Target(
        ("flows/quality/ledger.py", "flows/quality/rules.py"), ("tests/test_quality.py",)
    ),
    "reparse": Target(("flows/reparse.py",), ("tests/test_reparse.py",)),
}
# mutmut mutates code inside functions only; these module-level pattern lists are mutated
# here instead, one element dropped at a time.
PATTERN_LISTS = {
    "parse-lists": (
        "ARTICLE_CHROME",
        "WIDGET_CHROME",
        "COMMENT_SECTION_HEADERS",
        "REPLY_FORM_CHROME",
    ),
}
BOUNDED = re.compile(r"\{\d+,\d+\}")
# Imported once by mutmut's fork server; nothing here may start a thread (polars starts its
# pool on first use, and a forked child would wait on it for ever).
PRELOAD = ("pytest", "polars", "duckdb", "pyarrow", "prefect", "hypothesis")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    names = [*PATTERN_LISTS, *TARGETS]
    parser.add_argument("targets", nargs="*", help=f"any of {', '.join(names)} (default all)")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("MUTATION_JOBS", "2")))
    args = parser.parse_args()
    unknown = set(args.targets) - set(names)
    if unknown:
        parser.error(f"unknown targets {sorted(unknown)}; choose from {', '.join(names)}")
    scores = {}
    for name in args.targets or names:
        if name in PATTERN_LISTS:
            scores[name] = run_pattern_lists(name, TARGETS[name.removesuffix("-lists")])
        else:
            scores[name] = run_target(name, TARGETS[name], args.jobs)
        print(f"-- {name}: {_score(*scores[name])}", flush=True)
    print("\nmutation score per module (killed / counted mutants)")
    for name, (killed, counted) in scores.items():
        print(f"  {name:12} {_score(killed, counted)}")
    return 0


def _score(killed: int, counted: int) -> str:
    return f"{killed:4} / {counted:4}  {100 * killed / max(counted, 1):5.1f} %"


def run_target(name: str, target: Target, jobs: int) -> tuple[int, int]:
    """Mutate one target in its own scratch folder; print its survivors; return the score."""
    folder = SCRATCH / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for entry in ("flows", "tests", *SUPPORT):
        (folder / entry).symlink_to(ROOT / entry)
    (folder / "pyproject.toml").write_text(_pyproject(target), encoding="utf-8")
    (folder / "preload.txt").write_text("\n".join(PRELOAD) + "\n", encoding="utf-8")
    print(f"== {name}: {', '.join(target.files)} against {', '.join(target.tests)}", flush=True)
    mutmut = [sys.executable, "-m", "mutmut"]
    names = [_glob(file, function) for file in target.files for function in target.functions]
    run = subprocess.run([*mutmut, "run", "--max-children", str(jobs), *names], cwd=folder)
    if run.returncode != 0:
        raise SystemExit(f"mutmut failed on {name} (exit {run.returncode})")
    statuses = _statuses(folder, target)
    if target.functions:
        statuses = {m: s for m, s in statuses.items() if any(fnmatch(m, g) for g in names)}
    survivors = sorted(m for m, status in statuses.items() if status not in KILLED | NOT_COUNTED)
    for mutant in survivors:
        shown = subprocess.run(
            [*mutmut, "show", mutant], cwd=folder, capture_output=True, text=True, check=False
        )
        print(_short_diff(mutant, statuses[mutant], shown.stdout))
    counted = [s for s in statuses.values() if s not in NOT_COUNTED]
    return sum(s in KILLED for s in counted), len(counted)


def run_pattern_lists(name: str, target: Target) -> tuple[int, int]:
    """Drop each element of the target's pattern lists in turn and run its tests on that."""
    (file,) = target.files
    source = (ROOT / file).read_text(encoding="utf-8")
    folder = SCRATCH / name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(ROOT / "flows", folder / "flows")
    for entry in ("tests", *SUPPORT):
        (folder / entry).symlink_to(ROOT / entry)
    shutil.copy(ROOT / "pyproject.toml", folder)
    env = {**os.environ, "PYTHONPATH": str(folder)}
    mutants = list(_dropped_elements(source, PATTERN_LISTS[name]))
    print(f"== {name}: {len(mutants)} elements of {', '.join(PATTERN_LISTS[name])} dropped")
    pytest = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    # The tests must pass on the unmutated copy, or every mutant would count as caught.
    if subprocess.run([*pytest, *target.tests], cwd=folder, env=env).returncode != 0:
        raise SystemExit(f"{name}: the tests fail on the unmutated code")
    killed = 0
    for label, mutated in mutants:
        (folder / file).write_text(mutated, encoding="utf-8")
        tests = subprocess.run([*pytest, *target.tests], cwd=folder, env=env, capture_output=True)
        killed += tests.returncode != 0
        if tests.returncode == 0:
            print(f"  survived: {label}", flush=True)
    return killed, len(mutants)


def _dropped_elements(source: str, lists: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """(label, mutated source) for each element of the named tuples: the element dropped,
    and, where it bounds a repetition (`{1,6}`), the repetition unbounded."""
    lines = source.splitlines(keepends=True)
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Tuple)):
            continue
        (target,) = node.targets
        if not (isinstance(target, ast.Name) and target.id in lists):
            continue
        for element in node.value.elts:
            assert element.end_lineno is not None
            label = f"{target.id} without {ast.get_source_segment(source, element)}"
            kept = lines[: element.lineno - 1] + lines[element.end_lineno :]
            yield label, "".join(kept)
            line = lines[element.lineno - 1]
            if element.lineno == element.end_lineno and BOUNDED.search(line):
                before, after = lines[: element.lineno - 1], lines[element.lineno :]
                widened = "".join([*before, BOUNDED.sub("*", line), *after])
                yield label.replace("without", "widened", 1), widened


def _glob(file: str, function: str) -> str:
    """mutmut's name pattern for the mutants of a function (or of a method of that name)."""
    module = file.removesuffix(".py").replace("/", ".")
    return f"{module}.*{function}__mutmut_*"


def _pyproject(target: Target) -> str:
    """The project's pyproject.toml with a [tool.mutmut] section for this target."""
    project = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    settings = {
        "source_paths": ["flows"],
        "only_mutate": list(target.files),
        "also_copy": list(SUPPORT),
        "pytest_add_cli_args_test_selection": list(target.tests),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-m", "not real_prefect_server"],
        # polars and Prefect start threads: fork every mutant from a process that ran no test.
        "process_isolation": "forkserver",
        "forkserver_warmup": "import",
        "preload_modules_file": "preload.txt",
        # The forked child still imports the project and collects its tests: seconds, not
        # the milliseconds mutmut's default allows on top of the tests' own time.
        "timeout_constant": 10,
        "use_git_change_detection": False,
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in settings.items()]
    return project + "\n[tool.mutmut]\n" + "\n".join(lines) + "\n"


def _statuses(folder: Path, target: Target) -> dict[str, str]:
    """Each mutant's status from mutmut's result files."""
    from mutmut.stats import status_by_exit_code

    statuses = {}
    for file in target.files:
        meta = folder / "mutants" / f"{file}.meta"
        if not meta.exists():
            continue
        exit_codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        statuses |= {m: status_by_exit_code[code] for m, code in exit_codes.items()}
    return statuses


def _short_diff(mutant: str, status: str, diff: str) -> str:
    """The changed lines of a mutant's diff, under its name and status."""
    changed = [
        line
        for line in diff.splitlines()
        if re.match(r"[-+](?![-+]{2})", line) and line.strip() not in "+-"
    ]
    return "\n".join([f"  {status}: {mutant}", *(f"      {line}" for line in changed)])


if __name__ == "__main__":
    sys.exit(main())
