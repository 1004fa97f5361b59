"""docs/cli.md is made by docs/make_cli_md.py from real runs: it documents only commands the CLI
has, and its transcripts are the ones the script makes (the command lines, not the outputs:
speeds and times differ from run to run)."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_cli_md", ROOT / "docs" / "make_cli_md.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


M = _script()


def _help(*args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    out = subprocess.run(
        [sys.executable, "-m", "satya_adapt", *args, "--help"],
        capture_output=True, text=True, check=True, env=env, timeout=60,
    )  # fmt: skip
    return out.stdout


def _listed(help_text: str) -> set[str]:
    """The subcommands a --help lists (one per line, indented four spaces, then its help)."""
    return set(re.findall(r"^    ([a-z]+)  ", help_text, re.M))


def test_every_documented_command_is_one_the_cli_has() -> None:
    text = DOC.read_text(encoding="utf-8")
    commands = set(re.findall(r"satya-adapt ([a-z]+(?: [a-z]+)?)", text))
    top = _listed(_help())
    actions = _listed(_help("archive"))
    assert top == {"validate", "demo", "archive", "optimize"}
    assert actions == {"show", "explain", "plot", "refresh", "merge"}
    documented = {c.split()[0] for c in commands}
    assert documented <= top
    archive_actions = {c.split()[1] for c in commands if c.startswith("archive ")}
    assert archive_actions == actions
    # Every command and action has its own section.
    sections = re.findall(r"^## (.+)$", text, re.M)
    assert sections == [
        "validate", "demo", "archive show", "archive explain", "archive plot",
        "archive refresh", "archive merge", "optimize",
    ]  # fmt: skip


def test_every_transcript_starts_with_a_command_line() -> None:
    blocks = [lines for kind, lines in M.split_blocks(DOC.read_text("utf-8")) if kind == "console"]
    assert len(blocks) == 12
    for lines in blocks:
        assert lines[0].startswith("$ satya-adapt "), lines[0]
        assert not any("Traceback" in line for line in lines)


def test_the_doc_is_made_from_the_template() -> None:
    """``--check``: the committed doc's prose and command lines are the template's."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_cli_md.py"), "--check"],
        check=False, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (0, "")


def test_check_finds_a_stale_doc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = DOC.read_text("utf-8").replace("$ satya-adapt demo --records", "$ satya-adapt demo -x")
    (tmp_path / "cli.md").write_text(stale, encoding="utf-8")
    monkeypatch.setattr(M, "DOC", tmp_path / "cli.md")
    assert M.main(["--check"]) == 1


def test_split_blocks_and_command_lines() -> None:
    text = "intro\n```console\n$ satya-adapt demo\nout\n```\nmid\n```\nplain\n```\n"
    assert M.split_blocks(text) == [
        ("text", ["intro", "```console"]),
        ("console", ["$ satya-adapt demo", "out"]),
        ("text", ["```", "mid", "```", "plain", "```", ""]),
    ]
    assert M.command_lines(text) == ["$ satya-adapt demo"]
    assert M.prose(text) == ["intro", "```console", "```", "mid", "```", "plain", "```", ""]


@pytest.mark.slow
def test_the_script_runs_every_documented_command(tmp_path: Path) -> None:
    """The script makes the doc from real runs: same prose and command lines as committed."""
    out = tmp_path / "cli.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "make_cli_md.py"), "-o", str(out)],
        check=False, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    made, committed = out.read_text("utf-8"), DOC.read_text("utf-8")
    assert M.command_lines(made) == M.command_lines(committed)
    assert M.prose(made) == M.prose(committed)
    for kind, lines in M.split_blocks(made):
        if kind == "console":
            assert lines[0].startswith("$ satya-adapt ")
            assert not any("Traceback" in line for line in lines)


#: Options whose value a command writes (not an input file).
_OUTPUTS = {"-o", "--output", "--results"}
_INPUT_SUFFIXES = (".json", ".ndjson", ".gz", ".csv", ".parquet")


def test_every_file_a_transcript_reads_is_made_by_the_script(tmp_path: Path) -> None:
    """Before (issue 11): docs/cli.md ran on files nobody has. Every file a command line of the
    template reads is made by the script in its temporary folder (or named missing on purpose)."""
    import shlex

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    M.make_inputs(tmp_path, env, optimize=False)
    made_by_optimizer = {M.OPTIMIZE_ARGS[M.OPTIMIZE_ARGS.index("--archive") + 1]}
    read: set[str] = set()
    for line in M.command_lines(M.TEMPLATE.read_text("utf-8")):
        words = shlex.split(line[2:])
        if words[1] == "optimize":
            continue  # it writes its --archive and --results
        for before, word in zip(words, words[1:]):
            if before not in _OUTPUTS and word.endswith(_INPUT_SUFFIXES):
                read.add(word)
    assert {"users.ndjson.gz", "one.json", "users.csv", "users.parquet"} <= read
    missing = {name for name in read if not (tmp_path / name).is_file()}
    assert missing == M.MISSING_ON_PURPOSE | made_by_optimizer


def test_inputs_writes_the_files_the_commands_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Before (issue 11, first hour): a reader had no way to get the files docs/cli.md runs
    on. `--inputs DIR` writes them into DIR (the optimizer run that makes `tuned.json`
    recorded here, not run) and nothing else."""
    optimizer_runs: list[tuple[list[str], Path]] = []

    def run(
        argv: list[str], cwd: Path, env: dict[str, str], *a: object, **k: object
    ) -> tuple[int, str]:
        optimizer_runs.append((list(argv[1:]), cwd))
        return 0, ""

    monkeypatch.setattr(M, "run", run)
    folder = tmp_path / "new" / "dir"
    assert M.main(["--inputs", str(folder)]) == 0
    assert capsys.readouterr().out == f"wrote the input files into {folder}\n"
    assert optimizer_runs == [(["-m", "satya_adapt", "optimize", *M.OPTIMIZE_ARGS], folder)]
    expected = {
        "user.schema.json", "users.ndjson", "users.json", "head.ndjson", "users.ndjson.gz",
        "one.json", "response.json", "truncated.json", "users.csv", "users.parquet", "bad.schema.json",
        "row.schema.json", "rows.ndjson", "orders.schema.json", "orders.json", "example.json",
        "refreshed.json", "other.json", "empty.json", "broken.json",
    }  # fmt: skip
    assert {p.name for p in folder.iterdir()} == expected


def test_the_top_level_help_lists_the_exit_codes_the_doc_lists() -> None:
    """Before (issue 11, first hour): `satya-adapt --help` stopped at 130; docs/cli.md also
    lists 143 (terminated); 141 (output closed early) was in neither."""
    doc = DOC.read_text("utf-8")
    paragraph = doc[doc.index("**Exit codes.**") :].split("\n\n")[0]
    documented = re.findall(r"\b(\d+): ", paragraph)
    assert documented == ["0", "1", "2", "130", "141", "143"]
    helped = " ".join(_help().split("exit codes:")[1].split())
    assert re.findall(r"\b(\d+) [a-z]", helped) == documented


def test_the_top_level_help_names_what_an_installed_user_can_run() -> None:
    """Before (issue 11): `satya-adapt --help` said `optimize` takes "the flags of
    benchmarks/map_elites_optimizer.py", a file an installed user does not have."""
    top = _help()
    line = next(x for x in top.splitlines() if x.startswith("    optimize  "))
    assert " ".join(line.split()) == (
        "optimize search, with MAP-Elites, the fastest batch configurations on this machine and"
        " write them to an archive (see `satya-adapt optimize --help`)"
    )
    assert "benchmarks/" not in top
