"""Archive files: the MAP-Elites grid of elites with their evidence and provenance.

An archive is data. It is decoded with msgspec into the strict types below (unknown fields,
wrong types and out-of-range values are refused with a message naming the field), checked for
consistency, and written with orjson atomically (a temporary file in the same folder, fsync,
rename). It is never ``eval``-ed or unpickled. ``archives/README.md`` documents the format field
by field; this code writes :data:`FORMAT_VERSION` (2) and reads :data:`READ_VERSIONS` (a
version-1 file has no fronts: each of its cells reads as a one-point front, see
:func:`cell_front`).

This module also holds the descriptor helpers shared by the selector and the optimizer: how a
profile is quantized, binned into a cell, and placed in the scaled space where distances are
measured. Use :func:`descriptor` wherever a profile is assigned to a cell, so that the optimizer
and the selector agree.
"""

# No `from __future__ import annotations` here: msgspec reads the annotations at run time, and
# real objects cost nothing where strings cost ~15 ms to evaluate on the first decode. They are
# written in a form Python 3.9 accepts (`Optional`, `List`).
import bisect
import contextlib
import datetime as _dt
import errno
import math
import os
import stat
import sys
from typing import Annotated, Any, Dict, List, Literal, NoReturn, Optional, Sequence, Tuple, Union

import msgspec
from msgspec import Meta

from . import hardware as _hardware
from .errors import ArchiveError
from .profile import Profile

__all__ = [
    "ENV_VAR",
    "FEATURES",
    "FORMAT",
    "FORMAT_VERSION",
    "READ_VERSIONS",
    "FrontPoint",
    "cell_front",
    "dominates",
    "pareto_front",
    "KEEP_DEFAULT",
    "ArchiveFile",
    "Cell",
    "CellProfile",
    "Change",
    "Elite",
    "Grid",
    "GridFeature",
    "Hardware",
    "OptimizerState",
    "Provenance",
    "Selection",
    "Software",
    "as_profile",
    "atomic_write_bytes",
    "bin_index",
    "cell_profile",
    "check_archive",
    "decode_archive",
    "dequantize",
    "descriptor",
    "discover_archive",
    "encode_archive",
    "feature_unit",
    "hardware_class",
    "load_archive",
    "MAX_ARCHIVE_BYTES",
    "point",
    "provenance_here",
    "quantize",
    "repo_archive_path",
    "rng_from_json",
    "rng_state_to_json",
    "shipped_archive",
    "sync_shipped_archive",
    "transform",
    "write_archive",
]

#: The value of the ``format`` field: tells an archive from other JSON files (results, ...).
FORMAT = "satya-adapt-archive"
#: The archive format version this code writes (2: cells carry Pareto fronts).
FORMAT_VERSION = 2
#: The versions this code reads (version 1: one elite per cell, read as a one-point front).
READ_VERSIONS = (1, 2)
#: Profile features a grid may bin (``n`` is not one: the call size only clamps ``batch_size``).
FEATURES = (
    "field_count",
    "avg_string_length",
    "constraint_complexity",
    "object_size",
    "input_kind",
)
#: The ``elite`` of a cell where no configuration proved better than the default configuration.
KEEP_DEFAULT = "keep_default"
#: Environment variable naming the archive to use when ``Validator(archive=...)`` is not given.
ENV_VAR = "SATYA_ADAPT_ARCHIVE"
#: The largest archive file read (64 MiB; the shipped one is about 0.3 MiB): a larger file is
#: refused by its size, before it is read.
MAX_ARCHIVE_BYTES = 64 << 20
#: Quantization of the sampled features: steps per octave of ``1 + value``.
QUANT_STEPS_PER_OCTAVE = 4

#: The largest integer an archive may hold (2**53: exact as a float, which descriptors and
#: byte counts become; a larger one raised OverflowError where it was turned into one).
MAX_INT = 1 << 53
#: The most points a cell's front holds (the search keeps 8): checking that none dominates
#: another compares every pair, 38 s for one front of 16,000 points.
MAX_FRONT_POINTS = 64
PositiveInt = Annotated[int, Meta(ge=1, le=MAX_INT)]
NonNegativeInt = Annotated[int, Meta(ge=0, le=MAX_INT)]
NonNegativeFloat = Annotated[float, Meta(ge=0)]
PositiveFloat = Annotated[float, Meta(gt=0)]
UnitFloat = Annotated[float, Meta(ge=0, le=1)]
Date = Annotated[_dt.datetime, Meta(tz=True)]
FeatureName = Literal[
    "field_count", "avg_string_length", "constraint_complexity", "object_size", "input_kind"
]
InputKind = Literal["dicts", "json", "ndjson", "arrow"]


class _Strict(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of the archive types: unknown fields are refused, fields are named on construction."""


# -- provenance -----------------------------------------------------------------------------


class Hardware(_Strict, kw_only=True):
    """The machine the measurements were made on."""

    cpu_model: str
    cpu_vendor: str
    cpu_family: str
    machine: str
    usable_cores: PositiveInt
    os: str = ""


class Software(_Strict, kw_only=True):
    """The interpreter and build the measurements were made with."""

    python_version: str
    python_implementation: str
    gil_enabled: bool
    satya_adapt_version: str
    build_profile: str
    commit: Optional[str] = None


class Provenance(_Strict, kw_only=True):
    """Where the archive comes from. ``hardware`` and ``software`` are ``null`` only in an
    archive without cells (no measurement to describe)."""

    tool: str
    date: Date
    command: Optional[str]
    seed: Optional[int]
    generations: NonNegativeInt
    test_size: Optional[PositiveInt] = None
    hardware: Optional[Hardware]
    software: Optional[Software]
    note: str = ""


# -- grid -----------------------------------------------------------------------------------


class GridFeature(_Strict, kw_only=True):
    """One axis of the grid.

    ``scale`` ``"log"`` or ``"linear"``: ``edges`` are the inner bin boundaries (strictly
    increasing); a value ``v`` falls in bin ``bisect_right(edges, v)``, so there are
    ``len(edges) + 1`` bins. Distances are measured on ``log2(1 + v)`` (log) or ``v`` (linear),
    divided by ``unit`` (default: the mean gap between the transformed edges, so that one bin is
    about one unit; 1.0 with fewer than two edges). ``scale`` ``"category"`` (``input_kind``
    only): ``categories`` lists the kinds, bin ``i`` is ``categories[i]``; cells of different
    categories are never neighbours.
    """

    name: FeatureName
    scale: Literal["log", "linear", "category"]
    edges: List[float] = []
    categories: List[InputKind] = []
    unit: Optional[PositiveFloat] = None


class Grid(_Strict, kw_only=True):
    features: List[GridFeature]


class Selection(_Strict, kw_only=True):
    """How the selector uses the cells (distances in grid units, see :class:`GridFeature`)."""

    k: Annotated[int, Meta(ge=1, le=64)] = 4
    nearest_radius: NonNegativeFloat = 0.5
    confidence_radius: NonNegativeFloat = 2.0
    transfer: Literal["bytes", "records"] = "bytes"


# -- cells ----------------------------------------------------------------------------------


class CellProfile(_Strict, kw_only=True):
    """The profile measured on the data the elite was found with."""

    field_count: NonNegativeInt
    avg_string_length: NonNegativeFloat
    constraint_complexity: UnitFloat
    object_size: PositiveFloat
    input_kind: InputKind
    n: Optional[PositiveInt] = None


class Elite(_Strict, kw_only=True):
    batch_size: PositiveInt
    micro_batch_size: PositiveInt
    threads: PositiveInt


class FrontPoint(_Strict, kw_only=True):
    """One measured configuration of a cell's Pareto front: its throughput (items/s) and
    speedup over the default configuration with the paired interval, ``peak_bytes`` and the
    longest GIL hold (seconds; ``None`` when not measured). ``default``: the point is the
    default configuration itself (a front always may keep it, whatever its speedup)."""

    config: Elite
    default: bool = False
    throughput: PositiveFloat
    speedup: PositiveFloat
    speedup_ci_low: PositiveFloat
    speedup_ci_high: PositiveFloat
    peak_bytes: NonNegativeInt
    max_gil_hold: Optional[NonNegativeFloat] = None


class Cell(_Strict, kw_only=True):
    """One filled cell: its elite (or ``"keep_default"``) and the evidence behind it.

    ``throughput`` is the items/s of the configuration the cell yields (the default
    configuration's for ``"keep_default"``), ``default_throughput`` the default configuration's
    measured alongside; ``speedup`` and its interval ``[speedup_ci_low, speedup_ci_high]`` compare
    the best configuration found with the default (for ``"keep_default"``: the best candidate,
    whose lower bound did not clear the bar); ``peak_bytes``: the most bytes in flight for one
    chunk with the configuration the cell yields; ``n_measurements``: timed runs behind it;
    ``workload``: the workload spec the cell's data was generated from (JSON values, as
    ``satya_adapt.tuning.workloads.WorkloadSpec.to_dict()`` gives), so refresh jobs can re-measure it.

    Version 2: ``max_gil_hold``, the longest GIL hold of the configuration the cell yields
    (seconds, ``None`` when not measured), and ``front``, the non-dominated measured
    configurations over speedup (higher), ``peak_bytes`` and ``max_gil_hold`` (lower), each
    kept only when its speedup's lower bound clears the bar, plus the default configuration
    (kept even when dominated), at most :data:`MAX_FRONT_POINTS`;
    empty in a version-1 file (:func:`cell_front` then makes the one-point front of the elite).
    """

    index: List[NonNegativeInt]
    profile: CellProfile
    elite: Union[Elite, Literal["keep_default"]]
    throughput: PositiveFloat
    default_throughput: PositiveFloat
    speedup: PositiveFloat
    speedup_ci_low: PositiveFloat
    speedup_ci_high: PositiveFloat
    peak_bytes: NonNegativeInt
    n_measurements: PositiveInt
    workload: Optional[Dict[str, Any]] = None
    max_gil_hold: Optional[NonNegativeFloat] = None
    front: Annotated[List[FrontPoint], Meta(max_length=MAX_FRONT_POINTS)] = []

    @property
    def keep_default(self) -> bool:
        return isinstance(self.elite, str)


class Change(_Strict, kw_only=True):
    """One entry of ``history``: what a run did to the archive."""

    date: Date
    action: Literal["create", "optimize", "refresh", "merge", "edit"]
    summary: str
    command: Optional[str] = None
    cells_added: NonNegativeInt = 0
    cells_changed: NonNegativeInt = 0
    cells_dropped: NonNegativeInt = 0


class OptimizerState(_Strict, kw_only=True):
    """What an optimizer needs to resume its search: the generation reached and the random
    state (JSON values only; see :func:`rng_state_to_json`). Optional: the optimizer's own
    ``--archive`` file carries it, the shipped archive does not (see
    :func:`sync_shipped_archive`); the selector never reads it."""

    generation: NonNegativeInt
    evaluations: NonNegativeInt = 0
    random_state: Any = None


class ArchiveFile(_Strict, kw_only=True):
    format: Literal["satya-adapt-archive"]
    format_version: int
    provenance: Provenance
    grid: Grid
    selection: Selection = msgspec.field(default_factory=Selection)
    cells: List[Cell]
    history: List[Change] = []
    optimizer: Optional[OptimizerState] = None


class _Header(msgspec.Struct):
    format: Optional[str] = None
    format_version: Optional[int] = None


# -- reading --------------------------------------------------------------------------------


def decode_archive(data: Union[bytes, str], source: str = "<archive>") -> ArchiveFile:
    """Decodes and checks an archive document; :class:`ArchiveError` names the bad field."""
    try:
        header = msgspec.json.decode(data, type=_Header, strict=True)
    except msgspec.ValidationError as exc:
        raise ArchiveError(f"{source}: not an archive: {exc}") from None
    except msgspec.DecodeError as exc:
        raise ArchiveError(f"{source}: not valid JSON: {exc}") from None
    except RecursionError:  # (msgspec's own limit: about 1,000 levels)
        raise ArchiveError(f"{source}: its JSON nests too deep to be read") from None
    if header.format != FORMAT:
        raise ArchiveError(
            f"{source}: not an archive: "
            + ("no `format`" if header.format is None else f"`format` is {header.format!r}")
            + f", expected {FORMAT!r}"
            " - at `$.format`"
        )
    if header.format_version not in READ_VERSIONS:
        raise ArchiveError(
            f"{source}: unsupported `format_version` {header.format_version!r}; this satya-adapt"
            f" reads versions {' and '.join(map(str, READ_VERSIONS))} - at `$.format_version`"
        )
    try:
        archive = msgspec.json.decode(data, type=ArchiveFile, strict=True)
    except msgspec.DecodeError as exc:
        raise ArchiveError(f"{source}: {exc}") from None
    except RecursionError:
        raise ArchiveError(f"{source}: its JSON nests too deep to be read") from None
    check_archive(archive, source)
    return archive


def open_regular(path: Union[str, os.PathLike[str]]) -> Any:
    """``path`` opened for reading (a binary file object) when it is a regular file; else an
    ``OSError``: ``Is a directory``, or ``not a regular file`` for a FIFO, a socket or a device
    (an archive or an online cache named by a FIFO blocked the read for ever: ``open`` waits
    for a writer). Opened without waiting, then checked."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def load_archive(path: Union[str, os.PathLike[str], Any]) -> ArchiveFile:
    """Reads and decodes the archive at ``path`` (a path or an ``importlib.resources`` file)."""
    try:
        if isinstance(path, (str, os.PathLike)):
            with open_regular(os.fspath(path)) as f:
                data = _read_limited(f, str(path))
        else:  # an importlib.resources file: the shipped archive
            data = path.read_bytes()
    except OSError as exc:
        raise ArchiveError(f"{path}: cannot read the archive: {exc.strerror or exc}") from None
    return decode_archive(data, str(path))


def _read_limited(f: Any, name: str) -> bytes:
    """The bytes of an archive file opened as ``f``, refused above :data:`MAX_ARCHIVE_BYTES`
    by its size before it is read (and by what is read, for a file that does not know its size)."""
    size = os.fstat(f.fileno()).st_size
    limit = f"the archive is larger than {MAX_ARCHIVE_BYTES >> 20} MiB"
    if size > MAX_ARCHIVE_BYTES:
        raise ArchiveError(f"{name}: {limit} ({size} bytes)")
    data: bytes = f.read(MAX_ARCHIVE_BYTES + 1)
    if len(data) > MAX_ARCHIVE_BYTES:
        raise ArchiveError(f"{name}: {limit}")
    return data


def check_archive(archive: ArchiveFile, source: str = "<archive>") -> None:
    """Checks what the types cannot: grid and cells consistent, every number finite."""

    def fail(message: str, at: str) -> NoReturn:
        raise ArchiveError(f"{source}: {message} - at `$.{at}`")

    if archive.format != FORMAT:
        fail(f"`format` must be {FORMAT!r}", "format")
    if archive.format_version not in READ_VERSIONS:
        fail(f"`format_version` must be one of {list(READ_VERSIONS)}", "format_version")
    if archive.cells and (
        archive.provenance.hardware is None or archive.provenance.software is None
    ):
        fail("`hardware` and `software` are required in an archive with cells", "provenance")

    features = archive.grid.features
    seen: Dict[str, int] = {}
    for i, f in enumerate(features):
        at = f"grid.features[{i}]"
        if f.name in seen:
            fail(f"feature `{f.name}` appears twice", f"{at}.name")
        seen[f.name] = i
        if f.scale == "category":
            if f.name != "input_kind":
                fail(f"`{f.name}` is numeric: its scale must be 'log' or 'linear'", f"{at}.scale")
            if not f.categories or len(set(f.categories)) != len(f.categories):
                fail("`categories` must list distinct input kinds", f"{at}.categories")
            if f.edges:
                fail("a category feature has no `edges`", f"{at}.edges")
        else:
            if f.name == "input_kind":
                fail("`input_kind` is categorical: its scale must be 'category'", f"{at}.scale")
            if f.categories:
                fail("a numeric feature has no `categories`", f"{at}.categories")
            for j, e in enumerate(f.edges):
                if not math.isfinite(e) or (f.scale == "log" and e < 0):
                    fail("edges must be finite (and >= 0 on a log scale)", f"{at}.edges[{j}]")
                if j and e <= f.edges[j - 1]:
                    fail("edges must be strictly increasing", f"{at}.edges[{j}]")
            if f.unit is not None and not math.isfinite(f.unit):
                fail("`unit` must be finite", f"{at}.unit")

    sel = archive.selection
    for name in ("nearest_radius", "confidence_radius"):
        if not math.isfinite(getattr(sel, name)):
            fail(f"`{name}` must be finite", f"selection.{name}")
    if sel.nearest_radius > sel.confidence_radius:
        fail("`nearest_radius` must not exceed `confidence_radius`", "selection.nearest_radius")

    indexes: Dict[Tuple[int, ...], int] = {}
    for i, cell in enumerate(archive.cells):
        at = f"cells[{i}]"
        if len(cell.index) != len(features):
            fail(
                f"`index` has {len(cell.index)} entries, the grid has {len(features)} features",
                f"{at}.index",
            )
        expected = descriptor(archive.grid, as_profile(cell.profile))
        if expected is None:
            fail(
                f"input kind {cell.profile.input_kind!r} is not in the grid",
                f"{at}.profile.input_kind",
            )
        if tuple(cell.index) != expected:
            fail(
                f"`index` {list(cell.index)} is not the descriptor of the cell's profile"
                f" {list(expected or ())}",
                f"{at}.index",
            )
        key = tuple(cell.index)
        if key in indexes:
            fail(f"`index` {list(key)} repeats cells[{indexes[key]}]", f"{at}.index")
        indexes[key] = i
        for name in (
            "throughput",
            "default_throughput",
            "speedup",
            "speedup_ci_low",
            "speedup_ci_high",
        ):
            if not math.isfinite(getattr(cell, name)):
                fail(f"`{name}` must be finite", f"{at}.{name}")
        for name in ("avg_string_length", "constraint_complexity", "object_size"):
            if not math.isfinite(getattr(cell.profile, name)):
                fail(f"`{name}` must be finite", f"{at}.profile.{name}")
        if not cell.speedup_ci_low <= cell.speedup <= cell.speedup_ci_high:
            fail("`speedup` must lie in [`speedup_ci_low`, `speedup_ci_high`]", f"{at}.speedup")
        if isinstance(cell.elite, Elite) and cell.elite.micro_batch_size > cell.elite.batch_size:
            fail("`micro_batch_size` must not exceed `batch_size`", f"{at}.elite.micro_batch_size")
        if archive.format_version < 2 and (cell.front or cell.max_gil_hold is not None):
            fail("`front` and `max_gil_hold` need `format_version` 2", f"{at}.front")
        if len(cell.front) > MAX_FRONT_POINTS:  # (as reading refuses it: never written)
            fail(f"`front` holds more than {MAX_FRONT_POINTS} points", f"{at}.front")
        for j, pt in enumerate(cell.front):
            pat = f"{at}.front[{j}]"
            for name in ("throughput", "speedup", "speedup_ci_low", "speedup_ci_high"):
                if not math.isfinite(getattr(pt, name)):
                    fail(f"`{name}` must be finite", f"{pat}.{name}")
            if pt.max_gil_hold is not None and not math.isfinite(pt.max_gil_hold):
                fail("`max_gil_hold` must be finite", f"{pat}.max_gil_hold")
            if not pt.speedup_ci_low <= pt.speedup <= pt.speedup_ci_high:
                fail("`speedup` must lie in [`speedup_ci_low`, `speedup_ci_high`]", f"{pat}.speedup")
            if pt.config.micro_batch_size > pt.config.batch_size:
                fail("`micro_batch_size` must not exceed `batch_size`", f"{pat}.config")
            for k, other in enumerate(cell.front):
                if k != j and not pt.default and dominates(other, pt):
                    fail(f"the point is dominated by front[{k}]", pat)


# -- fronts ---------------------------------------------------------------------------------


def _hold(point: FrontPoint) -> float:
    return math.inf if point.max_gil_hold is None else point.max_gil_hold


def dominates(a: FrontPoint, b: FrontPoint) -> bool:
    """Whether ``a`` is at least as good as ``b`` on every objective (speedup higher,
    ``peak_bytes`` and ``max_gil_hold`` lower; an unmeasured hold counts as the worst) and
    better on one."""
    no_worse = a.speedup >= b.speedup and a.peak_bytes <= b.peak_bytes and _hold(a) <= _hold(b)
    better = a.speedup > b.speedup or a.peak_bytes < b.peak_bytes or _hold(a) < _hold(b)
    return no_worse and better


def pareto_front(points: Sequence[FrontPoint]) -> List[FrontPoint]:
    """The points no other point dominates, and the default configuration's point whatever
    dominates it, in their order; of equal points the first."""
    out: List[FrontPoint] = []
    for i, p in enumerate(points):
        if not p.default and any(dominates(q, p) for q in points):
            continue
        if any(q == p for q in points[:i]):
            continue
        out.append(p)
    return out


def cell_front(cell: Cell, default: Sequence[int] = (8192, 1024, 1)) -> List[FrontPoint]:
    """The cell's front; a cell without one (a version-1 file) gives the one-point front of its
    elite, or for ``"keep_default"`` the default configuration's point (knobs ``default``,
    speedup 1: the cell's own speedup is that of the candidate that did not clear the bar)."""
    if cell.front:
        return list(cell.front)
    if isinstance(cell.elite, Elite):
        return [
            FrontPoint(
                config=cell.elite,
                throughput=cell.throughput,
                speedup=cell.speedup,
                speedup_ci_low=cell.speedup_ci_low,
                speedup_ci_high=cell.speedup_ci_high,
                peak_bytes=cell.peak_bytes,
                max_gil_hold=cell.max_gil_hold,
            )
        ]
    # "keep_default": the cell's speedup is its best candidate's; the default's own is 1.
    b, m, t = default[:3]
    return [
        FrontPoint(
            config=Elite(batch_size=b, micro_batch_size=m, threads=t),
            default=True,
            throughput=cell.throughput,
            speedup=1.0,
            speedup_ci_low=1.0,
            speedup_ci_high=1.0,
            peak_bytes=cell.peak_bytes,
            max_gil_hold=cell.max_gil_hold,
        )
    ]


# -- writing --------------------------------------------------------------------------------


def encode_archive(archive: ArchiveFile) -> bytes:
    """The archive as indented JSON bytes (orjson), after :func:`check_archive`; always in
    format version :data:`FORMAT_VERSION` (a version-1 archive is written as version 2)."""
    import orjson  # here: only writers need it

    if archive.format_version != FORMAT_VERSION:
        archive = msgspec.structs.replace(archive, format_version=FORMAT_VERSION)
    check_archive(archive)
    doc = msgspec.to_builtins(archive)
    try:
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    except (TypeError, orjson.JSONEncodeError) as exc:
        for name, value in doc.items():
            try:
                orjson.dumps(value)
            except (TypeError, orjson.JSONEncodeError):
                raise ArchiveError(
                    f"cannot encode the archive: {exc} - at `$.{name}`"
                    " (JSON values only; integers within 64 bits)"
                ) from None
        raise ArchiveError(f"cannot encode the archive: {exc}") from None


def write_archive(archive: ArchiveFile, path: Union[str, os.PathLike[str]]) -> None:
    """Checks, encodes and writes ``archive`` to ``path`` atomically."""
    atomic_write_bytes(path, encode_archive(archive))


def atomic_write_bytes(
    path: Union[str, os.PathLike[str]], data: bytes, durable: bool = True, what: str = "the archive"
) -> None:
    """Writes ``data`` to ``path`` so that readers see the old file or the new one, never a part:
    a temporary file in the same folder, flushed (and, ``durable``, fsynced, as the folder is
    after the rename), then renamed over ``path``. Errors say "cannot write ``what``"."""
    # Through a symbolic link, its file is written (the link stays); a device, a FIFO or a
    # folder at ``path`` is never replaced (the rename replaced even /dev/null, as root).
    target = os.path.realpath(os.fspath(path))
    folder = os.path.dirname(target)
    try:
        st = os.stat(target)
    except OSError:
        mode = 0o644
    else:
        if not stat.S_ISREG(st.st_mode):
            kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
            raise ArchiveError(f"{target}: cannot write {what}: {kind}, left as it is")
        mode = st.st_mode & 0o7777
    import tempfile  # here: writing is rare, importing it costs a few ms

    try:
        fd, tmp = tempfile.mkstemp(
            dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
    except OSError as exc:
        raise ArchiveError(f"{target}: cannot write {what}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise ArchiveError(f"{target}: cannot write {what}: {exc.strerror or exc}") from None
        raise
    if durable and hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        with contextlib.suppress(OSError):
            dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)


# -- discovery ------------------------------------------------------------------------------


def shipped_archive() -> Any:
    """The archive inside the installed package (``satya_adapt/archives/default.json``): its
    path (a str) when the package lives in a folder (any ordinary install), else an
    ``importlib.resources`` file (a zipped package)."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "archives", "default.json")
    if os.path.isfile(here):
        return here
    from importlib import resources  # ~5 ms to import; only for unusual loaders

    return resources.files("satya_adapt").joinpath("archives", "default.json")


def discover_archive(archive: Optional[Union[str, os.PathLike[str]]] = None) -> Tuple[str, Any]:
    """Which archive a call uses: ``(origin, location)``.

    ``origin`` is ``"argument"`` (``archive`` given), ``"environment"`` (the
    ``SATYA_ADAPT_ARCHIVE`` variable, when set and not empty) or ``"shipped"``.
    """
    if archive is not None:
        return "argument", os.fspath(archive)
    env = os.environ.get(ENV_VAR)
    if env:
        return "environment", env
    return "shipped", shipped_archive()


def repo_archive_path() -> str:
    """``archives/default.json`` of the source checkout this package sits in: the one copy of
    the shipped archive (the package's ``archives/default.json`` links to it)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return os.path.join(root, "archives", "default.json")


def sync_shipped_archive(source: Optional[Union[str, os.PathLike[str]]] = None) -> str:
    """Makes ``source`` (an optimizer's ``--archive`` file, say) the shipped archive: checks that
    it decodes, drops the optimizer's resume state (``optimizer``: selection never reads it,
    and decoding it cost every first call), and writes the result atomically. Without
    ``source`` the shipped archive itself is rewritten without resume state. Returns the path
    written.

    In a source checkout the file written is ``archives/default.json``, the one copy, which
    ``satya_adapt/archives/default.json`` links to (the link is not replaced); in an installed
    package, the package's own file.
    """
    here = os.path.dirname(os.path.abspath(__file__))
    dest = os.path.realpath(os.path.join(here, "archives", "default.json"))
    src = os.fspath(source) if source is not None else dest
    try:
        with open_regular(src) as f:
            data = _read_limited(f, src)
    except OSError as exc:
        raise ArchiveError(f"{src}: cannot read the archive: {exc.strerror or exc}") from None
    archive = decode_archive(data, src)
    if archive.optimizer is not None:
        data = encode_archive(msgspec.structs.replace(archive, optimizer=None))
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    atomic_write_bytes(dest, data)
    return dest


# -- provenance helpers ---------------------------------------------------------------------


def provenance_here(
    *,
    tool: str,
    command: Optional[str],
    seed: Optional[int],
    generations: int,
    test_size: Optional[int] = None,
    build_profile: Optional[str] = None,
    commit: Optional[str] = None,
    note: str = "",
) -> Provenance:
    """A provenance block describing this machine and process, dated now (UTC)."""
    import platform

    cpu = _hardware.cpu_info()
    if build_profile is None:
        build_profile = "unknown"
        ext = sys.modules.get("satya_adapt._validator")
        value = getattr(ext, "BUILD_PROFILE", None)
        if isinstance(value, str):
            build_profile = value
    return Provenance(
        tool=tool,
        date=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0),
        command=command,
        seed=seed,
        generations=generations,
        test_size=test_size,
        hardware=Hardware(
            cpu_model=cpu["model"],
            cpu_vendor=cpu["vendor"],
            cpu_family=cpu["family"],
            machine=platform.machine(),
            usable_cores=_hardware.usable_cores(),
            os=f"{platform.system()} {platform.release()}".strip(),
        ),
        software=Software(
            python_version=platform.python_version(),
            python_implementation=platform.python_implementation(),
            gil_enabled=_hardware.gil_enabled(),
            satya_adapt_version=_hardware.package_version(),
            build_profile=build_profile,
            commit=commit,
        ),
        note=note,
    )


def hardware_class(provenance: Provenance) -> Optional[_hardware.HardwareClass]:
    """The compatibility class an archive was measured in (``None`` without measurements)."""
    hw, sw = provenance.hardware, provenance.software
    if hw is None or sw is None:
        return None
    return _hardware.HardwareClass(
        machine=hw.machine,
        cpu_vendor=hw.cpu_vendor,
        cpu_family=hw.cpu_family,
        usable_cores=hw.usable_cores,
        python=_hardware.minor_version(sw.python_version),
        gil_enabled=sw.gil_enabled,
        satya_adapt=_hardware.minor_version(sw.satya_adapt_version),
    )


def cell_profile(profile: Sequence[Any]) -> CellProfile:
    """A measured :class:`~satya_adapt.Profile` as stored in a cell."""
    p = Profile(*profile)
    return CellProfile(
        field_count=int(p.field_count),
        avg_string_length=float(p.avg_string_length),
        constraint_complexity=float(p.constraint_complexity),
        object_size=float(p.object_size),
        input_kind=p.input_kind,  # type: ignore[arg-type]
        n=p.n,
    )


def as_profile(p: CellProfile) -> Profile:
    """A cell's measured profile as a :class:`~satya_adapt.Profile` (the inverse of
    :func:`cell_profile`)."""
    return Profile(
        p.field_count,
        p.avg_string_length,
        p.constraint_complexity,
        p.object_size,
        p.input_kind,
        p.n,
    )


# -- descriptors ----------------------------------------------------------------------------


def dequantize(steps: int) -> float:
    """The value ``steps`` quantization steps stand for: ``2 ** (steps / 4) - 1``."""
    return float(2.0 ** (steps / QUANT_STEPS_PER_OCTAVE) - 1.0)


def _quantize_value(value: float) -> float:
    return dequantize(round(QUANT_STEPS_PER_OCTAVE * math.log2(1.0 + value)))


def quantize(profile: Sequence[Any]) -> Profile:
    """The profile the selector and the descriptor work with.

    ``avg_string_length`` and ``object_size`` (sampled, so noisy) are rounded to a quarter octave
    of ``1 + value`` (within 9%); ``field_count`` and ``constraint_complexity`` (properties of
    the schema) are kept. Out-of-range values are made safe: negative or non-finite numbers
    become 0, ``constraint_complexity`` is clipped to [0, 1], ``object_size`` is at least 1 byte.
    ``n`` is kept as it is.
    """
    fc, asl, cc, osz, kind, n = profile[:6]

    def num(x: Any) -> float:
        try:
            v = float(x)
        except (TypeError, ValueError):
            return 0.0
        return v if math.isfinite(v) and v > 0 else 0.0

    field_count = int(num(fc))
    cc = min(num(cc), 1.0)
    return Profile(
        field_count, _quantize_value(num(asl)), cc, max(_quantize_value(num(osz)), 1.0), kind, n
    )


def transform(value: float, scale: str) -> float:
    """The value on the axis where distances are measured: ``log2(1 + value)`` or ``value``."""
    return math.log2(1.0 + value) if scale == "log" else float(value)


def feature_unit(feature: GridFeature) -> float:
    """The transformed length that counts as distance 1 on this axis."""
    if feature.unit is not None:
        return float(feature.unit)
    edges = [transform(e, feature.scale) for e in feature.edges]
    if len(edges) < 2:
        return 1.0
    return (edges[-1] - edges[0]) / (len(edges) - 1)


def bin_index(value: float, edges: Sequence[float]) -> int:
    """The bin of ``value``: the number of edges at or below it."""
    return bisect.bisect_right(edges, value)


def descriptor(grid: Grid, profile: Sequence[Any]) -> Optional[Tuple[int, ...]]:
    """The cell index of a profile: each grid feature of the quantized profile, binned.

    ``None`` when the profile's input kind is not a category of the grid.
    """
    q = quantize(profile)
    out = []
    for f in grid.features:
        value = getattr(q, f.name)
        if f.scale == "category":
            if value not in f.categories:
                return None
            out.append(f.categories.index(value))
        else:
            out.append(bin_index(value, f.edges))
    return tuple(out)


def feature_units(grid: Grid) -> Tuple[float, ...]:
    """:func:`feature_unit` of each numeric feature of ``grid``, in order."""
    return tuple(feature_unit(f) for f in grid.features if f.scale != "category")


def point(
    grid: Grid, profile: Sequence[Any], units: Optional[Sequence[float]] = None
) -> Tuple[float, ...]:
    """The quantized profile in the scaled space of the grid's numeric features; ``units``:
    :func:`feature_units` of the grid, computed once by a caller that places many profiles (a
    unit transforms every edge of its feature: per profile, cells times edges)."""
    q = quantize(profile)
    if units is None:
        units = feature_units(grid)
    numeric = [f for f in grid.features if f.scale != "category"]
    return tuple(
        transform(getattr(q, f.name), f.scale) / unit for f, unit in zip(numeric, units)
    )


# -- random state ---------------------------------------------------------------------------

_INT64 = 2**63


def _to_json(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else {"$int": str(value)}
    if isinstance(value, dict):
        return {str(k): _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _to_json(value.tolist())
    raise TypeError(f"cannot store a {type(value).__name__} in a random state")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$int"}:
            return int(value["$int"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def rng_state_to_json(rng: Any) -> Dict[str, Any]:
    """The state of a :class:`random.Random` or a numpy ``Generator`` as JSON values
    (integers wider than 64 bits become ``{"$int": "<decimal>"}``), for ``optimizer.random_state``."""
    import random

    if isinstance(rng, random.Random):
        version, internal, gauss = rng.getstate()
        return {"kind": "python", "state": [version, list(internal), gauss]}
    bit_generator = getattr(rng, "bit_generator", None)
    if bit_generator is not None:
        return {"kind": "numpy", "state": _to_json(bit_generator.state)}
    raise TypeError(f"`rng` must be a random.Random or a numpy Generator, got {type(rng).__name__}")


def rng_from_json(state: Any) -> Any:
    """The random generator :func:`rng_state_to_json` described, in that state."""
    if not isinstance(state, dict) or state.get("kind") not in ("python", "numpy"):
        raise ArchiveError("`optimizer.random_state` is not a state written by rng_state_to_json")
    import random

    try:
        if state["kind"] == "python":
            version, internal, gauss = state["state"]
            rng = random.Random()
            rng.setstate((version, tuple(internal), gauss))
            return rng
        import numpy as np

        inner = _from_json(state["state"])
        bit_generator = getattr(np.random, inner["bit_generator"])()
        bit_generator.state = inner
        return np.random.Generator(bit_generator)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArchiveError(f"`optimizer.random_state` cannot be restored: {exc}") from None
