"""The offline MAP-Elites optimizer: it measures which batch configuration is fastest for each
kind of data and writes the winners to an archive.

This module is the one entry point: :func:`main` with its parser :func:`build_parser`, used by
``satya-adapt optimize`` and ``benchmarks/map_elites_optimizer.py`` alike, and :func:`run`,
which drives a search as :class:`Settings` say. A run goes through the parts of
:mod:`satya_adapt.tuning`:

1. **Gates** (:mod:`~satya_adapt.tuning.gates`, once per search; a resumed search keeps them):
   the A/A noise floor of this machine, the knobs that move throughput beyond it (the others
   are frozen at their default), and a plausibility check of every timing.
2. **Search** (:mod:`~satya_adapt.tuning.search`, MAP-Elites over the genes and grid of
   :mod:`~satya_adapt.tuning.space`, timed by :mod:`~satya_adapt.tuning.measurer`): generation
   after generation, challengers take a cell only when the lower bound of their paired speedup
   over the holder exceeds 1.
3. **Correction** (:mod:`~satya_adapt.tuning.correction`): every cell's best configuration
   and up to three other points of its front timed again in fresh rounds; a point stays on
   the cell's front only when the fresh lower bound of its speedup exceeds
   :data:`~satya_adapt.config.SHIP_THRESHOLD` (1.03), and the cell ships the fastest of them.
4. **Report** (:mod:`~satya_adapt.tuning.report`): the archive and the ``--results`` document.

The archive is written atomically every ``save_every`` generations, on Ctrl-C (or SIGTERM) and
at the end. Its ``optimizer`` block holds the generation reached and the resume state
(:mod:`~satya_adapt.tuning.state`), so the same command resumes the search.

Measurement is hidden behind :class:`~satya_adapt.tuning.measurer.Measurer`, so tests drive the
search with fake timings.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import math
import os
import shlex
import signal
import sys
import time
from collections.abc import Sequence
from typing import Any, Iterator

from .. import archive as _archive
from ..budget import parse_memory_budget
from .._argtypes import non_negative_int, positive_int
from ..config import SHIP_THRESHOLD, effective
from ..errors import ArchiveError
from ..profile import INPUT_KINDS
from . import measure, realdata, report
from .measurer import Measurer, Prepared
from .search import DEFAULT_ARCHIVE, DEFAULT_RESULTS, Search, Settings
from .space import (
    FIELD_COUNT,
    INVALID_RATE,
    LIST_LENGTH_MAX,
    NESTING_MAX,
    STRING_LENGTH,
    ConfigGenes,
    SearchSpace,
    WorkloadGenes,
    crossover,
    default_grid,
    grid_cells,
    mutate_config,
    mutate_workload,
    random_config,
    random_workload,
)
from .state import CellRecord, stored_genes, stored_workloads

__all__ = [
    "DEFAULT_ARCHIVE",
    "DEFAULT_RESULTS",
    "FIELD_COUNT",
    "INPUT_KINDS",
    "INVALID_RATE",
    "LIST_LENGTH_MAX",
    "NESTING_MAX",
    "SHIP_THRESHOLD",
    "STRING_LENGTH",
    "CellRecord",
    "ConfigGenes",
    "Interrupted",
    "Measurer",
    "Prepared",
    "Search",
    "SearchSpace",
    "Settings",
    "WorkloadGenes",
    "build_parser",
    "crossover",
    "default_grid",
    "effective",
    "grid_cells",
    "main",
    "mutate_config",
    "mutate_workload",
    "random_config",
    "random_workload",
    "run",
    "settings_from_args",
    "stored_genes",
    "stored_workloads",
]


class Interrupted(Exception):
    """Raised by the SIGTERM handler, handled like Ctrl-C."""


def _log(level: int, verbose: int, message: str) -> None:
    if verbose >= level:
        print(message, file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"



def _raise_interrupted(signum: int, frame: Any) -> None:
    raise Interrupted(f"signal {signum}")


def _writable(path: str, what: str) -> None:
    """Refuses, before anything is measured, a ``path`` that ``what`` could not be written to
    at the end of the search (a folder, a folder that is not writable, no name)."""
    if not path:
        raise ArchiveError(f"cannot write {what}: no file named (an empty path)")
    target = os.path.realpath(path)
    if os.path.isdir(target):
        raise ArchiveError(f"{target}: cannot write {what}: a folder")
    folder = os.path.dirname(target)
    while folder and not os.path.exists(folder):  # (the folders are made when it is written)
        folder = os.path.dirname(folder) if os.path.dirname(folder) != folder else ""
    if folder and not (os.path.isdir(folder) and os.access(folder, os.W_OK | os.X_OK)):
        raise ArchiveError(f"{target}: cannot write {what}: {folder} is not a writable folder")


class _Run:
    """One session of :func:`run`: the search, the archive it resumes, the clock and the logs."""

    def __init__(self, settings: Settings, measurer: Any) -> None:
        s = self.settings = settings
        self.started = time.monotonic()
        self.deadline = self.started + s.time_budget if s.time_budget is not None else None
        self.gen_seconds: list[float] = []
        #: The state after the last complete generation (what an interrupt saves).
        self.last: tuple[int, int, dict[str, Any]] | None = None
        self.previous: _archive.ArchiveFile | None = None
        if os.path.exists(s.archive):
            previous = self.previous = _archive.load_archive(s.archive)
            if previous.optimizer is None:
                raise ArchiveError(
                    f"{s.archive}: the archive holds no optimizer state to resume from;"
                    " choose another --archive"
                )
            self.search = Search(
                s, measurer, grid=previous.grid, log=self.log, real_workloads=self.real_pool()
            )
            self.search.restore(
                previous.optimizer.generation,
                previous.optimizer.evaluations,
                previous.optimizer.random_state,
            )
            self.log(
                1,
                f"resuming {s.archive} at generation {self.search.generation}"
                f" ({len(self.search.cells)} cells, {self.search.evaluations} evaluations)",
            )
        else:
            self.search = Search(s, measurer, log=self.log, real_workloads=self.real_pool())
            self.log(1, f"new search -> {s.archive} (seed {s.seed}, {self.search.cores} usable cores)")
        self.search.sessions += 1
        self.first_generation = self.search.generation

    def real_pool(self) -> list[str]:
        """The names of the training real-data workloads the search draws from (none with
        ``--real-data off`` or without the shared data folder; the log says which)."""
        if not self.settings.real_data:
            self.log(1, "real-data workloads: off (--real-data off); synthetic workloads only")
            return []
        pool = realdata.training_workloads()
        if not pool:
            self.log(1, "real-data workloads: no shared data folder; synthetic workloads only")
            return []
        self.log(
            1,
            f"real-data workloads: {len(pool)} training workloads beside the synthetic ones"
            " (held-out workloads are never drawn)",
        )
        return sorted(pool)

    def log(self, level: int, message: str) -> None:
        _log(level, self.settings.verbose, message)

    def elapsed(self) -> str:
        return _duration(time.monotonic() - self.started)

    # -- estimates ----------------------------------------------------------------------------

    def eval_seconds(self) -> float:
        history = self.search.history[-5:]
        evals = sum(sum(h["outcomes"].values()) for h in history) or 1
        secs = sum(h["seconds"] for h in history)
        return secs / evals if secs else 2.0

    def generation_seconds(self) -> float:
        if self.gen_seconds:
            return measure.median(self.gen_seconds)
        return self.eval_seconds() * self.settings.population

    def final_estimate(self) -> float:
        s, search = self.settings, self.search
        cells = len(search.cells) + (s.population // 2 if not search.cells else 0)
        factor = (s.final_rounds + 1) / (s.search_rounds + 1) * (5.0 if s.msgspec else 4.0) / 3.0
        return cells * self.eval_seconds() * factor

    def eta(self, done_in_generation: float) -> str:
        s, search = self.settings, self.search
        left_gens = max(0.0, s.generations - search.generation - done_in_generation)
        estimate = left_gens * self.generation_seconds() + self.final_estimate()
        if self.deadline is not None:
            estimate = min(estimate, max(0.0, self.deadline - time.monotonic()))
        return _duration(estimate)

    def out_of_time(self) -> bool:
        """Whether another generation would leave too little of the time budget to correct."""
        if self.deadline is None or not self.search.history:
            return False
        needed = self.generation_seconds() + self.final_estimate()
        return time.monotonic() + needed > self.deadline

    # -- progress -----------------------------------------------------------------------------

    def progress(self, i: int, total: int, what: str) -> None:
        s, search = self.settings, self.search
        if s.verbose >= 2:
            self.log(
                2,
                f"[gen {search.generation + 1}/{s.generations} {i}/{total}] {what} | cells"
                f" {len(search.cells)} QD {search.qd_score():.2f} | elapsed"
                f" {self.elapsed()} ETA {self.eta(i / max(1, total))}",
            )

    def final_progress(self, i: int, total: int, what: str) -> None:
        self.log(2, f"[correction {i}/{total}] {what} | elapsed {self.elapsed()}")

    # -- saving -------------------------------------------------------------------------------

    def snapshot(self) -> tuple[int, int, dict[str, Any]]:
        search = self.search
        return (search.generation, search.evaluations, copy.deepcopy(search.state_json()))

    def save(self, change: _archive.Change | None = None) -> None:
        _archive.write_archive(self.search.to_archive(self.previous, change), self.settings.archive)

    def finish(self, *, interrupted: bool) -> _archive.ArchiveFile:
        """Writes the archive with this session's history entry, and the results."""
        s, search = self.settings, self.search
        archive = search.to_archive(self.previous)
        self.save(
            report.change(
                search,
                self.previous,
                archive.cells,
                first_generation=self.first_generation,
                interrupted=interrupted,
            )
        )
        if s.results:
            measure.write_results(
                search.results(complete=not interrupted, interrupted=interrupted), s.results
            )
        return archive

    # -- the session --------------------------------------------------------------------------

    def generations(self) -> None:
        s, search = self.settings, self.search
        if not search.searchable:
            self.log(1, "no knob moves throughput beyond the noise floor: nothing to search")
        while search.generation < s.generations and search.searchable:
            if self.out_of_time():
                self.log(1, f"time budget: search stops at generation {search.generation}")
                break
            stats = search.run_generation(self.progress)
            self.gen_seconds.append(stats["seconds"])
            self.last = self.snapshot()
            self.log(
                1,
                f"generation {stats['generation']}/{s.generations}: coverage {stats['coverage']:.1%}"
                f" ({stats['cells']} cells, {stats['elites']} elites), QD {stats['qd_score']:.2f},"
                f" median speedup {stats['median_speedup'] or 1.0:.3f},"
                f" {', '.join(f'{k} {v}' for k, v in stats['outcomes'].items())}"
                f" ({stats['seconds']:.1f}s)",
            )
            if (search.generation - self.first_generation) % s.save_every == 0:
                self.save()

    def __call__(self) -> int:
        s, search = self.settings, self.search
        try:
            if search.gates is None:
                search.run_gates()
                os.makedirs(os.path.dirname(os.path.abspath(s.archive)), exist_ok=True)
                self.save()
            self.last = self.snapshot()
            self.generations()
            if not search.corrected:
                self.log(
                    1, f"correction: {len(search.cells)} cells, {s.final_rounds} fresh rounds each"
                )
                search.correct(self.final_progress)
            cells = self.finish(interrupted=False).cells
            shipped = sum(1 for c in cells if not c.keep_default)
            self.log(
                1,
                f"done: {len(cells)} cells, {shipped} ship an elite, {len(cells) - shipped} keep"
                f" the default; archive {s.archive}"
                + (f", results {s.results}" if s.results else "")
                + f" ({self.elapsed()})",
            )
            return 0
        except (KeyboardInterrupt, Interrupted):
            if self.last is None:
                self.log(0, "interrupted before the first generation; nothing saved")
                return 130
            search.restore(*self.last)
            self.finish(interrupted=True)
            self.log(
                0,
                f"interrupted: saved generation {search.generation} to {s.archive};"
                " run the same command again to resume",
            )
            return 130


def run(settings: Settings, *, measurer: Any = None) -> int:
    """Runs (or resumes) a search as ``settings`` says; returns the exit code (0 done,
    130 interrupted, the archive then holding the last complete generation)."""
    _writable(settings.archive, "the archive")
    if settings.results:
        _writable(settings.results, "the results")
    with _one_search(settings.archive):
        if measurer is None:
            measurer = Measurer(settings.test_size, sample_ns=settings.sample_ns)
        session = _Run(settings, measurer)
        try:
            old_handler = signal.signal(signal.SIGTERM, _raise_interrupted)
        except ValueError:  # not the main thread
            old_handler = None
        try:
            return session()
        finally:
            if old_handler is not None:
                signal.signal(signal.SIGTERM, old_handler)


@contextlib.contextmanager
def _one_search(archive: str) -> Iterator[None]:
    """An exclusive advisory lock (``flock``) on ``archive + ".lock"`` for the whole run: two
    searches of one archive each wrote over the other's, and both said done. None where the
    platform has no ``flock`` or the lock file cannot be made."""
    try:
        import fcntl
    except ImportError:  # (not POSIX)
        yield
        return
    lock = os.path.realpath(archive) + ".lock"
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        os.makedirs(os.path.dirname(lock), exist_ok=True)
        fd = os.open(lock, flags, 0o644)
    except OSError:
        yield
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ArchiveError(
                f"{archive}: another search is writing this archive (it holds {lock});"
                " wait for it to end, or choose another --archive"
            ) from None
        except OSError:
            pass  # (a file system without locks: on alone)
        yield
    finally:
        os.close(fd)  # (releases the lock)


# -- command line -----------------------------------------------------------------------------

_EPILOG = """\
examples:
  %(prog)s --generations 2 --test-size 5000 --save-every 1 --verbose 2 --no-msgspec \\
      --seed 42 --archive benchmarks/map_elites_archive.json \\
      --results benchmarks/map_elites_results.json
  %(prog)s --generations 50 --test-size 100000 --time-budget 1800 --input-kind json

The archive resumes: run the same command again after Ctrl-C and the search continues from
the saved generation. Exit codes: 0 done, 1 failure, 2 usage or archive error, 130 interrupted.
"""


def _bytes(text: str) -> int:
    """Bytes read as every other memory budget is (``64MB`` is 64,000,000, ``64MiB``
    67,108,864: :func:`satya_adapt.budget.parse_memory_budget`), at most 2**53 (what an
    archive holds)."""
    try:
        value = parse_memory_budget(text)
    except ValueError:
        value = None
    if value is None or value > _archive.MAX_INT:
        raise argparse.ArgumentTypeError(
            f"expected a number of bytes from 1 to 2**53, such as 67108864, 64MiB or 512KB, got {text!r}"
        )
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if abs(value) > _archive.MAX_INT:  # (the archive keeps it)
        raise argparse.ArgumentTypeError(f"expected an integer within +-2**53, got {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def build_parser(prog: str | None = None) -> argparse.ArgumentParser:
    """The optimizer's command line (shared by ``benchmarks/map_elites_optimizer.py`` and
    ``satya-adapt optimize``)."""
    p = argparse.ArgumentParser(
        prog=prog,
        description=(
            "Search, with MAP-Elites, the fastest batch configuration for each kind of data and"
            " write the winners to an archive (resumable)."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    p.add_argument("--generations", type=non_negative_int, default=50,
                   help="generations to reach (a resumed search continues up to it; default 50)")
    p.add_argument("--test-size", type=positive_int, default=20000,
                   help="records per measured workload (at most 32 MiB of JSON; default 20000)")
    p.add_argument("--save-every", type=positive_int, default=1,
                   help="write the archive every N generations (default 1)")
    p.add_argument("--archive", default=DEFAULT_ARCHIVE,
                   help=f"archive to write, resumed when it exists (default {DEFAULT_ARCHIVE})")
    p.add_argument("--results", default=DEFAULT_RESULTS,
                   help=f"results JSON to write (default {DEFAULT_RESULTS})")
    p.add_argument("--verbose", type=int, choices=(0, 1, 2), default=1,
                   help="0 quiet, 1 one line per generation, 2 progress lines with ETA")
    p.add_argument("--seed", type=_seed, default=42,
                   help="random seed of a new search (a resumed one keeps its own; default 42)")
    p.add_argument("--no-msgspec", action="store_true",
                   help="do not time msgspec on the cells' data at the end")
    p.add_argument("--time-budget", type=_seconds, metavar="SECONDS", default=None,
                   help="stop searching in time to finish the correction within SECONDS")
    p.add_argument("--input-kind", choices=(*INPUT_KINDS, "all"), default="all",
                   help="input kinds to search (default all)")
    p.add_argument("--memory-budget", type=_bytes, metavar="BYTES", default=None,
                   help="configurations whose peak bytes in flight exceed BYTES are infeasible"
                   " (64MiB, 512KB: KB/MB/GB powers of 1000, KiB/MiB/GiB of 1024)")
    p.add_argument("--real-data", choices=("on", "off"), default="on",
                   help="also draw workloads from the training real-data workloads of the shared"
                   " data folder (SchemaStore schemas with their instances, realdata/); held-out"
                   " ones never (default on; synthetic only when the folder is missing)")
    return p


def settings_from_args(args: argparse.Namespace, command: str | None = None) -> Settings:
    return Settings(
        generations=args.generations,
        test_size=args.test_size,
        save_every=args.save_every,
        archive=args.archive,
        results=args.results or None,
        verbose=args.verbose,
        seed=args.seed,
        msgspec=not args.no_msgspec,
        time_budget=args.time_budget,
        input_kinds=INPUT_KINDS if args.input_kind == "all" else (args.input_kind,),
        memory_budget=args.memory_budget,
        command=command,
        real_data=args.real_data == "on",
    )


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Parses ``argv`` (default ``sys.argv[1:]``) and runs; returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(prog)
    args = parser.parse_args(args_list)
    command = " ".join(
        x for x in (("python " + prog) if prog and prog.endswith(".py") else (prog or "optimizer"),
                    shlex.join(args_list)) if x
    )
    settings = settings_from_args(args, command)
    try:
        return run(settings)
    except ArchiveError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2

