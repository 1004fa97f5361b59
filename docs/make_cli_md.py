"""Writes docs/cli.md from docs/cli.template.md by running every command it shows.

The template is the document itself, except that its transcript blocks (fenced ``console``)
hold only command lines (``$ satya-adapt ...``, optionally ``< FILE`` for standard input). This
script creates the input files in a temporary folder (records and schemas from
``satya_adapt.tuning.workloads``, a truncated file, small archives, one made by running the
optimizer), runs each command there as ``python -m satya_adapt ...`` with this checkout on
``PYTHONPATH`` and no ``SATYA_ADAPT_ARCHIVE``, and puts the real output under its command line:
standard output and standard error as they came, paths shortened (the temporary folder's
names are relative, the package folder is ``…/``), and ``[exit N]`` after a command that
exits with a code other than 0. Speeds and times differ from run to run.

    python docs/make_cli_md.py                  # rewrite docs/cli.md
    python docs/make_cli_md.py -o /tmp/cli.md   # write elsewhere
    python docs/make_cli_md.py --check          # exit 1 when docs/cli.md's prose or command
                                                # lines differ from the template's
    python docs/make_cli_md.py --inputs DIR     # only write the input files into DIR, to run
                                                # the documented commands yourself

Uses the standard library and satya_adapt only.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from satya_adapt import archive as A  # noqa: E402
from satya_adapt.tuning import workloads as W  # noqa: E402

TEMPLATE = ROOT / "docs" / "cli.template.md"
DOC = ROOT / "docs" / "cli.md"
FENCE = "```console"
PROG = "satya-adapt"
#: The optimizer run that makes `tuned.json`, the archive merged in the document (seconds).
OPTIMIZE_ARGS = (
    "--generations", "1", "--test-size", "2000", "--save-every", "1", "--verbose", "0",
    "--no-msgspec", "--seed", "42", "--archive", "tuned.json", "--results", "tuned_results.json",
)  # fmt: skip


# -- the template -----------------------------------------------------------------------------


def split_blocks(text: str) -> list[tuple[str, list[str]]]:
    """The document as ``("text", lines)`` and ``("console", lines)`` parts, in order."""
    parts: list[tuple[str, list[str]]] = []
    kind, lines = "text", []
    for line in text.split("\n"):
        if kind == "text" and line == FENCE:
            parts.append((kind, lines + [line]))
            kind, lines = "console", []
        elif kind == "console" and line == "```":
            parts.append((kind, lines))
            kind, lines = "text", [line]
        else:
            lines.append(line)
    if kind == "console":
        raise ValueError("a console block is not closed")
    parts.append((kind, lines))
    return parts


def command_lines(text: str) -> list[str]:
    """The ``$ ...`` lines of every console block, in order."""
    return [
        line
        for kind, lines in split_blocks(text)
        if kind == "console"
        for line in lines
        if line.startswith("$ ")
    ]


def prose(text: str) -> list[str]:
    """Everything but the console blocks' contents."""
    return [line for kind, lines in split_blocks(text) if kind == "text" for line in lines]


# -- the input files ----------------------------------------------------------------------------


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2) + "\n", encoding="utf-8")


def _cell(
    index: list[int],
    kind: str,
    fields: int,
    string_length: float,
    cc: float,
    size: float,
    elite: tuple[int, int, int] | None,
    speedup: tuple[float, float, float],
) -> A.Cell:
    s, low, high = speedup
    default = 1_000_000.0
    return A.Cell(
        index=index,
        profile=A.CellProfile(
            field_count=fields,
            avg_string_length=string_length,
            constraint_complexity=cc,
            object_size=size,
            input_kind=kind,  # type: ignore[arg-type]
        ),
        elite="keep_default" if elite is None else A.Elite(
            batch_size=elite[0], micro_batch_size=elite[1], threads=elite[2]
        ),
        throughput=default * (1.0 if elite is None else s),
        default_throughput=default,
        speedup=s,
        speedup_ci_low=low,
        speedup_ci_high=high,
        peak_bytes=200_000,
        n_measurements=9,
    )


def example_archive(grid: A.Grid) -> A.ArchiveFile:
    """Four hand-made cells with invented evidence, measured "here" (this machine)."""
    prov = A.provenance_here(
        tool="hand-made example",
        command="python docs/make_cli_md.py",
        seed=None,
        generations=0,
        test_size=2000,
        note="Invented evidence, for trying the archive commands.",
    )
    cells = [
        _cell([0, 0, 0], "dicts", 3, 9.4, 0.31, 58, (64, 16, 1), (1.29, 1.12, 1.45)),
        _cell([1, 1, 1], "json", 10, 9.2, 0.53, 173, (4096, 512, 2), (1.60, 1.40, 1.80)),
        _cell([2, 1, 0], "ndjson", 30, 8.1, 0.35, 418, None, (1.01, 0.97, 1.05)),
        _cell([2, 1, 1], "ndjson", 10, 9.2, 0.53, 173, (16384, 1024, 2), (1.50, 1.30, 1.70)),
    ]
    history = [
        A.Change(
            date=prov.date,
            action="create",
            summary="Four hand-made cells.",
            command=prov.command,
            cells_added=len(cells),
        )
    ]
    return A.ArchiveFile(
        format=A.FORMAT,
        format_version=A.FORMAT_VERSION,
        provenance=prov,
        grid=grid,
        cells=cells,
        history=history,
    )


#: Files the template's commands name on purpose without the script making them.
MISSING_ON_PURPOSE = frozenset({"missing.ndjson", "mistyped.json"})


def make_inputs(folder: Path, env: dict[str, str], optimize: bool = True) -> None:
    """Writes every file the template's commands read into ``folder`` (``tuned.json`` by a
    short optimizer run, unless ``optimize`` is false)."""
    users = W.make_workload("mixed10", 20_000, seed=0)
    _write_json(folder / "user.schema.json", users.schema)
    (folder / "users.ndjson").write_bytes(users.ndjson_bytes())
    (folder / "users.json").write_bytes(users.json_bytes())
    (folder / "head.ndjson").write_bytes(b"".join(users.ndjson_bytes().splitlines(True)[:1000]))
    (folder / "users.ndjson.gz").write_bytes(gzip.compress(users.ndjson_bytes(), mtime=0))
    _write_json(folder / "one.json", users.records[0])
    # An API response that wraps 1,000 of the records.
    _write_json(folder / "response.json", {"meta": {"page": 1, "per_page": 1000},
                                            "data": {"items": users.records[:1000]}})
    (folder / "truncated.json").write_bytes(users.json_bytes()[:100_000])
    with open(folder / "users.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(users.records[0]), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(users.records[:5])
    (folder / "users.parquet").write_bytes(b"PAR1" + bytes(64) + b"PAR1")
    _write_json(
        folder / "bad.schema.json",
        {"type": "object", "properties": {"id": {"type": "int"}}},
    )
    _write_json(folder / "row.schema.json", {"type": "array", "items": {"type": "integer"}})
    (folder / "rows.ndjson").write_text("[1, 2]\n[3, 4]\n", encoding="utf-8")
    orders = W.make_workload("wide30", 3_000, seed=0)
    _write_json(folder / "orders.schema.json", orders.schema)
    (folder / "orders.json").write_bytes(orders.json_bytes())

    grid = A.load_archive(A.shipped_archive()).grid
    example = example_archive(grid)
    A.write_archive(example, folder / "example.json")
    A.write_archive(example, folder / "refreshed.json")
    other = A.Grid(features=[grid.features[0], A.GridFeature(
        name="object_size", scale="log", edges=[100.0, 1000.0]
    )])  # fmt: skip
    A.write_archive(
        A.ArchiveFile(
            format=A.FORMAT,
            format_version=A.FORMAT_VERSION,
            provenance=example.provenance,
            grid=other,
            cells=[],
        ),
        folder / "other.json",
    )
    empty = A.ArchiveFile(
        format=A.FORMAT,
        format_version=A.FORMAT_VERSION,
        provenance=A.Provenance(
            tool="hand-made example",
            date=example.provenance.date,
            command=None,
            seed=None,
            generations=0,
            hardware=None,
            software=None,
        ),
        grid=grid,
        cells=[],
    )
    A.write_archive(empty, folder / "empty.json")
    (folder / "broken.json").write_text("{not json\n", encoding="utf-8")
    if optimize:
        run([sys.executable, "-m", "satya_adapt", "optimize", *OPTIMIZE_ARGS], folder, env, check=True)


# -- running ------------------------------------------------------------------------------------


def run(
    argv: Sequence[str], cwd: Path, env: dict[str, str], stdin: Path | None = None,
    check: bool = False,
) -> tuple[int, str]:  # fmt: skip
    with open(stdin if stdin is not None else os.devnull, "rb") as f:
        proc = subprocess.run(
            list(argv), check=False, cwd=cwd, env=env, stdin=f, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=600,
        )  # fmt: skip
    out = proc.stdout.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        raise RuntimeError(f"{shlex.join(argv)} failed ({proc.returncode}):\n{out}")
    return proc.returncode, out


def shorten(text: str, folder: Path) -> str:
    """Paths as a reader sees them: relative to the temporary folder; the package's as ``…/``."""
    for base in {str(folder), os.path.realpath(folder)}:
        text = text.replace(base + os.sep, "").replace(base, ".")
    return text.replace(str(ROOT) + os.sep, "…/")


def transcript(line: str, folder: Path, env: dict[str, str]) -> list[str]:
    """``$ satya-adapt ARGS [< FILE]`` run in ``folder``: the line, its output, its exit code."""
    words = shlex.split(line[2:])
    stdin = None
    if len(words) >= 2 and words[-2] == "<":
        stdin, words = folder / words[-1], words[:-2]
    if not words or words[0] != PROG:
        raise ValueError(f"a console line must start with `$ {PROG}`: {line!r}")
    code, out = run([sys.executable, "-m", "satya_adapt", *words[1:]], folder, env, stdin)
    lines = [line, *shorten(out, folder).rstrip("\n").split("\n")] if out.strip() else [line]
    if code != 0:
        lines.append(f"[exit {code}]")
    return lines


def environment() -> dict[str, str]:
    """What the commands run with: this checkout first on ``PYTHONPATH``, no archive variable."""
    env = {k: v for k, v in os.environ.items() if k != "SATYA_ADAPT_ARCHIVE"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    env["COLUMNS"] = "100"
    return env


def render(template: str, folder: Path) -> str:
    env = environment()
    make_inputs(folder, env)
    out: list[str] = []
    for kind, lines in split_blocks(template):
        if kind == "text":
            out.extend(lines)
            continue
        block: list[str] = []
        for line in lines:
            if not line.startswith("$ "):
                raise ValueError(f"a template console block holds only `$ ` lines: {line!r}")
            if block:
                block.append("")
            block.extend(transcript(line, folder, env))
        out.extend(block)
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=DOC, help="default docs/cli.md")
    parser.add_argument(
        "--check",
        action="store_true",
        help="only compare docs/cli.md's prose and command lines with the template's",
    )
    parser.add_argument(
        "--inputs",
        type=Path,
        metavar="DIR",
        help="only write the input files the documented commands read into DIR (made if "
        "missing), to run the commands yourself",
    )
    args = parser.parse_args(argv)
    if args.inputs is not None:
        args.inputs.mkdir(parents=True, exist_ok=True)
        make_inputs(args.inputs, environment())
        print(f"wrote the input files into {args.inputs}")
        return 0
    template = TEMPLATE.read_text(encoding="utf-8")
    if args.check:
        doc = DOC.read_text(encoding="utf-8")
        if command_lines(doc) != command_lines(template) or prose(doc) != prose(template):
            print("docs/cli.md is stale: run python docs/make_cli_md.py", file=sys.stderr)
            return 1
        return 0
    with tempfile.TemporaryDirectory(prefix="satya-adapt-doc-") as tmp:
        text = render(template, Path(tmp))
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
