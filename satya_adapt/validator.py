"""`Validator`: validate records with a batch configuration chosen per call."""

from __future__ import annotations

import itertools
import json
import os
import sys
import threading
from typing import (
    Any,
    Dict,
    Iterable,
    Iterator,
    List,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Union,
)

from ._inputs import Opened, looks_like_text, open_input, placed, placed_message, read_in_place
from ._validator import _start_pool
from .budget import NO_BUDGET, Budget, BytesArg, SecondsArg, fit, make_budget
from .errors import InputError
from .config import (
    DEFAULT_CONFIGURATION,
    ONLINE_ENV_VAR,
    BatchConfig,
    SlicedTrial,
    check_flag,
    check_knob,
    online_default,
)
from .profile import INPUT_KINDS, Profile
from .result import EngineStats, RecordError, ValidationResult
from .schema import Schema, _describe, model_json_schema

__all__ = ["Validator"]

#: How many records of a generator are read ahead to detect its profile.
PROFILE_SAMPLE = 4
#: Calls of this many records take part in live verification (``live.MIN_RECORDS``); shorter
#: ones of at least ``live.MIN_SHORT_RECORDS`` when ``live.takes_part`` says so.
_LIVE_MIN_RECORDS = 4096
_LIVE_MIN_SHORT_RECORDS = 256
#: The longest NDJSON line (record) accepted unless ``max_record_bytes`` says otherwise.
DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024


#: The kinds of data whose short calls may take part (``live.takes_part``).
_LIVE_SHORT_KINDS = ("json", "ndjson")
_takes_part: Any = None


def _short_call_takes_part(profile: Any) -> bool:
    """``live.takes_part`` for a call of ``_LIVE_MIN_SHORT_RECORDS`` to ``_LIVE_MIN_RECORDS``
    records. Dicts never take part there: answered before importing ``live`` (the dearest
    module to import), and the import statement itself is paid once (1 us a call otherwise,
    3% of a 1,000-record call of small dicts)."""
    global _takes_part
    if profile[4] not in _LIVE_SHORT_KINDS:
        return False
    if _takes_part is None:
        from .live import takes_part

        _takes_part = takes_part
    return bool(_takes_part(profile))


PathLike = Union[str, "os.PathLike[str]"]
JsonData = Union[bytes, bytearray, memoryview, str]
NdjsonSource = Union[bytes, bytearray, memoryview, PathLike, Any]


#: With a pause budget, the direct dict path lets other threads run once it has held the GIL
#: for this share of the budget (checked every 64 records: the rest of the budget covers them).
HOLD_SHARE = 0.5


def _hold_limit(budget: Budget) -> Optional[float]:
    return None if budget.pause is None else budget.pause * HOLD_SHARE


class _Call(NamedTuple):
    """What one call asked for, checked once: its batch configuration knobs (``None``: choose),
    its budget (its own limits, else the validator's) and its cap on collected errors."""

    batch_size: Optional[int]
    micro_batch_size: Optional[int]
    threads: Optional[int]
    budget: Budget
    cap: Optional[int]
    #: ``errors=False``: the verdicts alone (no error built or counted).
    verdicts_only: bool = False


class Validator:
    """Validates records against one schema; thread-safe, compile once, validate many.

    Every call picks its batch configuration: explicit arguments win, else (``adapt=True``)
    the archive is asked for the call's profile, else the default configuration is used.
    ``archive`` is a path to an archive file; ``None`` discovers one (``SATYA_ADAPT_ARCHIVE``,
    then the shipped archive), read when the validator is made (once per file and process), as
    is the online cache. ``max_record_bytes`` is the longest NDJSON line accepted (a longer one raises
    :class:`InputError`); a call's own ``max_record_bytes`` wins. ``draft``, ``strict``,
    ``resources`` and ``formats`` are passed to :meth:`Schema.from_json_schema` when ``schema``
    is a document. ``online`` turns live verification and online refinement on or off (:mod:`satya_adapt.live`;
    ``None``: ``SATYA_ADAPT_ONLINE``, else on); ``alpha`` is the share of the default
    configuration's throughput it may lose (default 0.02).

    ``memory_budget`` (bytes, or text such as ``"64MiB"``) and ``max_pause`` (seconds, or text
    such as ``"5ms"``) bound what a call may cost: ``result.stats.peak_bytes`` and
    ``result.stats.max_gil_hold`` (the longest pause of other Python threads). A chosen batch
    configuration that the model of :mod:`satya_adapt.budget` expects to exceed them gets a
    smaller ``batch_size`` (``source`` ends in ``"+budget"``); explicit ``batch_size`` wins. A
    call's own ``memory_budget`` / ``max_pause`` replace the validator's.
    """

    def __init__(
        self,
        schema: Union[Schema, Mapping[str, Any], bool, Any],
        *,
        archive: Optional[PathLike] = None,
        adapt: bool = True,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        draft: Optional[str] = None,
        strict: bool = False,
        resources: Optional[Mapping[str, Any]] = None,
        formats: bool = True,
        online: Optional[bool] = None,
        alpha: float = 0.02,
        memory_budget: BytesArg = None,
        max_pause: SecondsArg = None,
        max_errors: Optional[int] = None,
    ) -> None:
        if isinstance(schema, Schema):
            if draft is not None or strict or resources is not None or not formats:
                raise ValueError(
                    "`draft`, `strict`, `resources` and `formats` apply to a JSON Schema document, not a `Schema`"
                )
            self.schema = schema
        elif isinstance(schema, (Mapping, bool)):
            self.schema = Schema.from_json_schema(
                schema, draft=draft, strict=strict, resources=resources, formats=formats
            )
        else:
            document = model_json_schema(schema)
            if document is None:
                raise TypeError(
                    "`schema` must be a JSON Schema (a dict or a bool), a `Schema`, a pydantic model or"
                    " TypeAdapter, a msgspec Struct type, a dataclass or a TypedDict, got"
                    f" {_describe(schema)}"
                )
            self.schema = Schema.from_json_schema(
                document, draft=draft, strict=strict, resources=resources, formats=formats
            )
        self._core = self.schema._compiled
        self.adapt = check_flag("adapt", adapt)
        if archive is not None and not isinstance(archive, (str, os.PathLike)):
            raise TypeError(f"`archive` must be a path, got {type(archive).__name__}")
        self._archive = archive
        self.max_record_bytes = _check_max_record_bytes(max_record_bytes)
        #: The limits every call keeps within unless it gives its own (see :mod:`satya_adapt.budget`).
        self.budget = make_budget(memory_budget, max_pause)
        self.max_errors = _check_max_errors(max_errors)
        self._plain_call: Optional[_Call] = None
        self._selector: Any = None
        self._select: Any = None
        self.online = online_default() if online is None else check_flag(
            "online", online, or_none=f"{ONLINE_ENV_VAR}, else on"
        )
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0.0 <= alpha < 1.0:
            raise ValueError(f"`alpha` must be a number in [0, 1), got {alpha!r}")
        self.alpha = float(alpha)
        self._live: Any = None
        # Calls with errors=False keep their own evidence: on failing records they run
        # faster than calls that build every error, and a cell's arms are compared by speed.
        self._live_verdicts: Any = None
        if self.adapt:
            self._prepare_adaptation()

    def __reduce__(self) -> Tuple[Any, Tuple[Any, ...]]:
        """Pickles as the schema document and the options, compiled again on arrival (a few
        hundred bytes for a typical schema): a worker process of Dask or Ray gets its own
        compiled schema and runs its own batch configuration selection."""
        draft, strict, resources, formats = self.schema._options
        return (
            _rebuild,
            (self.schema.json_schema, draft, strict, resources, formats, self._archive, self.adapt,
             self.max_record_bytes, self.online, self.alpha, self.budget.memory, self.budget.pause,
             self.max_errors),
        )

    # -- public API -------------------------------------------------------------------------

    def validate_batch(
        self,
        items: Iterable[Any],
        *,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        memory_budget: BytesArg = None,
        max_pause: SecondsArg = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
        errors: bool = True,
    ) -> ValidationResult:
        """Validates records given as Python objects: a list, a tuple or any iterable.

        A generator is consumed chunk by chunk (``batch_size`` records at a time), never whole.
        ``errors=False`` (here and in every validate call) returns the verdicts alone: no error
        is built or counted, and a failing record is not walked again for them.
        """
        call = self._call(
            batch_size, micro_batch_size, threads, memory_budget, max_pause, max_errors, errors
        )
        return self._validate_records(items, call)

    def _validate_records(
        self,
        items: Iterable[Any],
        call: _Call,
        arg: Tuple[str, str, str] = ("items", "validate_batch", "an iterable of records"),
    ) -> ValidationResult:
        """:meth:`validate_batch` (``arg`` as in :meth:`_prepare_objects`)."""
        items, config = self._prepare_objects(items, call, live=True, arg=arg)
        hold = _hold_limit(call.budget)
        if type(config) is SlicedTrial:
            rest = config.rest
            return self._sliced(
                call,
                lambda trial: self._core.validate_objects(
                    items, *rest[:3], call.cap, False, hold, trial, call.verdicts_only
                ),
                config,
            )
        return self._timed(
            call,
            lambda: self._core.validate_objects(
                items, *config[:3], call.cap, False, hold, None, call.verdicts_only
            ),
            config,
        )

    def validate_json(
        self,
        data: JsonData,
        *,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        memory_budget: BytesArg = None,
        max_pause: SecondsArg = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
        errors: bool = True,
        pointer: Optional[str] = None,
    ) -> ValidationResult:
        """Validates the elements of a JSON array given as bytes or str, parsed in Rust.

        A broken array (truncated, not an array, a malformed element) raises :class:`InputError`
        saying at which byte (and, past line 1, at which line and column).
        gzip- or zstd-compressed bytes are decompressed (see :meth:`validate_ndjson`).

        ``pointer``: the records are the elements of the array this JSON Pointer (RFC 6901)
        leads to in a document that wraps them, e.g. ``"/statuses"`` of
        ``{"statuses": [...], "search_metadata": {...}}`` (``"/data/items"``, ``"/0/rows"``;
        ``~1`` and ``~0`` stand for ``/`` and ``~`` in a key). The whole document must be JSON
        (:class:`InputError` otherwise, or when no array is there; ``ValueError`` for a pointer
        that is not one); error indexes count the array's elements.
        """
        if not isinstance(data, (bytes, bytearray, memoryview, str)):
            try:
                # Any bytes-like object (an mmap, which validate and validate_ndjson read as a
                # file object), by its bytes.
                data = memoryview(data)
            except TypeError:
                raise TypeError(
                    f"`data` must be bytes or str holding a JSON array, got {type(data).__name__}"
                ) from None
        call = self._call(
            batch_size, micro_batch_size, threads, memory_budget, max_pause, max_errors, errors
        )
        with self._reading(data, "json", str_is_text=True, default="json", pointer=pointer, name="data") as opened:
            return self._run(opened, call, self.max_record_bytes)

    def validate_ndjson(
        self,
        source: NdjsonSource,
        *,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_record_bytes: Optional[int] = None,
        memory_budget: BytesArg = None,
        max_pause: SecondsArg = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
        errors: bool = True,
    ) -> ValidationResult:
        """Validates NDJSON: bytes, NDJSON text, a path, or a binary file object, streamed.

        A str is NDJSON text when it holds a line break or starts with ``{`` or ``[``, else a
        path. gzip- and zstd-compressed input is decompressed as a stream (told by its first
        bytes); a file format that is not JSON (Parquet, ZIP, ...) raises :class:`InputError`.

        Memory stays bounded by ``batch_size`` lines whatever the size of a file. A line that
        is not valid JSON (or not UTF-8) is an error of that record, keyword ``json``. A line
        longer than ``max_record_bytes`` (default: the validator's) raises :class:`InputError`
        once that many bytes of it are read, so a stream without newlines ends too.
        """
        limit = self._max_record_bytes(max_record_bytes)
        call = self._call(
            batch_size, micro_batch_size, threads, memory_budget, max_pause, max_errors, errors
        )
        with self._reading(source, "ndjson", str_is_text=False, default="ndjson", limit=limit) as opened:
            return self._run(opened, call, limit)

    def validate_arrow(
        self,
        data: Any,
        *,
        null_as_absent: bool = False,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
        errors: bool = True,
    ) -> ValidationResult:
        """Validates the rows of Arrow data, read in Rust straight from the columns: a
        ``pyarrow.Table`` or ``RecordBatch``, a pandas or Polars DataFrame, or any object with
        ``__arrow_c_stream__`` (see :mod:`satya_adapt.arrow`). Struct columns are objects,
        list columns arrays, a null is JSON ``null``, or with ``null_as_absent=True`` a
        property that is not there. Input kind ``"arrow"`` in profiles. ``max_errors`` and
        ``errors=False`` as in :meth:`validate_batch`. The validator's ``memory_budget`` and
        ``max_pause`` do not apply: the budget model has no measurements of Arrow input.
        """
        from ._validator import ArrowSource
        from .arrow import arrow_stream

        call = _Call(batch_size, micro_batch_size, threads, NO_BUDGET, self._max_errors(max_errors),
                     _verdicts_only(errors))  # fmt: skip
        capsule, n, refused = arrow_stream(data)
        source = ArrowSource(capsule, check_flag("null_as_absent", null_as_absent))
        try:
            config = self._config(lambda: source.profile(self._core, n), call)
            raw = source.validate(self._core, *config[:3], call.cap, call.verdicts_only)
        except InputError:
            if refused:
                raise refused[0] from None
            raise
        return _result(raw, config)

    def validate(
        self,
        data: Any,
        *,
        input_kind: Optional[str] = None,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        memory_budget: BytesArg = None,
        max_pause: SecondsArg = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
        errors: bool = True,
        pointer: Optional[str] = None,
    ) -> ValidationResult:
        """Validates ``data`` of any input kind: :meth:`validate_batch` for ``"dicts"``,
        :meth:`validate_json` for ``"json"``, :meth:`validate_ndjson` for ``"ndjson"``.

        When ``input_kind`` is omitted it is guessed as :meth:`iter_validate` does. With
        ``pointer`` (see :meth:`validate_json`), ``data`` (bytes, text, a path or a binary file
        object) is one JSON document and the records are the array the pointer leads to.
        """
        kind = _input_kind(data, input_kind) if pointer is None else _pointer_kind(input_kind)
        call = self._call(
            batch_size, micro_batch_size, threads, memory_budget, max_pause, max_errors, errors
        )
        if kind == "dicts":
            return self._validate_records(data, call, ("data", "validate", _takes(input_kind)))
        with self._reading_data(data, input_kind, pointer=pointer, name="data") as opened:
            return self._run(opened, call, self.max_record_bytes)

    def iter_validate(
        self,
        source: Any,
        *,
        input_kind: Optional[str] = None,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_record_bytes: Optional[int] = None,
        memory_budget: BytesArg = None,
        max_pause: SecondsArg = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
        errors: bool = True,
        pointer: Optional[str] = None,
    ) -> Iterator[ValidationResult]:
        """Yields one result per chunk of ``batch_size`` records, for streams.

        ``input_kind`` is ``"dicts"``, ``"json"`` or ``"ndjson"``. When it is omitted, bytes,
        str (text or a path, as in :meth:`validate_ndjson`), a path and a binary file object
        are data read by their content (compressed
        input is decompressed; ``[`` first is a JSON array, one JSON document spread over
        lines is one record, other JSON text is NDJSON; empty bytes and str raise
        :class:`InputError` as they cannot be the JSON array they are read as, an empty file
        is NDJSON), anything else is an iterable of records. Record indexes in
        errors count from the start of the input. ``max_record_bytes`` limits NDJSON lines as
        in :meth:`validate_ndjson`. ``pointer``: as in :meth:`validate`.
        """
        limit = self._max_record_bytes(max_record_bytes)
        call = self._call(
            batch_size, micro_batch_size, threads, memory_budget, max_pause, max_errors, errors
        )
        kind = _input_kind(source, input_kind) if pointer is None else _pointer_kind(input_kind)
        if kind == "dicts":
            items, config = self._prepare_objects(
                source, call, arg=("source", "iter_validate", _takes(input_kind))
            )
            hold = _hold_limit(call.budget)
            for raw in self._core.validate_objects(
                items, *config[:3], call.cap, True, hold, None, call.verdicts_only
            ):
                yield _result(raw, config)
            return
        with self._reading_data(source, input_kind, limit, pointer) as opened:
            config = self._config(self._detector(opened), call)
            if opened.kind == "json":
                chunks = self._core.validate_json(
                    opened.source, *config[:3], call.cap, True, None, call.verdicts_only,
                    opened.span,
                )
            else:
                chunks = self._core.validate_ndjson(
                    opened.source, opened.prefix, *config[:3], limit, call.cap, True, None,
                    call.verdicts_only,
                )
            while True:
                try:
                    raw = next(chunks)
                except StopIteration:
                    return
                except InputError as exc:
                    raise InputError(placed_message(opened, str(exc))) from None
                result = _result(raw, config)
                if opened.document:
                    result.errors = placed(opened, result.errors)
                yield result

    def is_valid(self, record: Any) -> bool:
        """Whether one record is valid: checked in place on this thread, with no batch
        configuration, profile or selection, and no error built."""
        return bool(self._core.is_valid(record))

    def validate_one(self, record: Any, *, max_errors: Optional[int] = ...) -> List[RecordError]:  # type: ignore[assignment]
        """The errors of one record (``index`` 0), ``[]`` when it is valid; at most
        ``max_errors`` of them (default: the validator's; with 0, ``[]`` whatever the record:
        ask :meth:`is_valid` for the verdict). Checked as :meth:`is_valid` is."""
        errors, _omitted = self._core.errors_of(record, self._max_errors(max_errors))
        return list(errors)

    def profile(
        self, source: Any, *, input_kind: Optional[str] = None, pointer: Optional[str] = None
    ) -> Profile:
        """Detects the profile of ``source`` from a small sample, as a validate call would
        (``pointer``: as in :meth:`validate`; Arrow data, or ``input_kind="arrow"``, as
        :meth:`validate_arrow` would). What it reads of a one-pass source is used up: the
        first records of an iterator (a generator), the bytes of a stream or file object read
        for the sample, which a later call on the same source then does not see (a validate
        call takes its own sample of the records it validates: profile a list, bytes or a
        path, or the call itself)."""
        kind = (
            _input_kind(source, input_kind, arrow=True) if pointer is None
            else _pointer_kind(input_kind)
        )
        if kind == "arrow":
            from ._validator import ArrowSource
            from .arrow import arrow_stream

            capsule, n, refused = arrow_stream(source)
            try:
                return Profile(*ArrowSource(capsule, False).profile(self._core, n))
            except InputError:
                if refused:
                    raise refused[0] from None
                raise
        if kind == "dicts":
            if isinstance(source, (list, tuple)):
                return Profile(*self._core.profile_objects(source, len(source)))
            if isinstance(source, Mapping):  # (its keys were profiled as records)
                raise TypeError(
                    f"`source` must be {_takes(input_kind)}, got one {type(source).__name__};"
                    " wrap it in a list (`profile([record])`)"
                )
            try:
                records = iter(source)
            except TypeError:
                raise TypeError(
                    f"`source` must be {_takes(input_kind)}, got {type(source).__name__}"
                ) from None
            sample = list(itertools.islice(records, PROFILE_SAMPLE))
            return Profile(*self._core.profile_objects(sample, None))
        with self._reading_data(source, input_kind, pointer=pointer) as opened:
            return Profile(*self._detector(opened)())

    def explain(
        self,
        source: Any,
        *,
        input_kind: Optional[str] = None,
        memory_budget: BytesArg = None,
        max_pause: SecondsArg = None,
        pointer: Optional[str] = None,
        errors: bool = True,
    ) -> Any:
        """How a call on ``source`` would choose its batch configuration, step by step.

        With a budget (the validator's or the arguments'), ``budget`` tells the limits, what
        the model predicts for the selected configuration, and the configuration cut to them.
        ``live`` is the evidence of the call's cell, of calls with ``errors`` as given (calls
        with ``errors=False`` keep theirs apart: they run faster). A one-pass ``source`` is
        used up as :meth:`profile` says. Arrow data (a table, a DataFrame, an object with
        ``__arrow_c_stream__``; ``input_kind="arrow"``) is explained as :meth:`validate_arrow`
        reads it.
        """
        verdicts_only = _verdicts_only(errors)
        budget = self._call_budget(memory_budget, max_pause)
        profile = self.profile(source, input_kind=input_kind, pointer=pointer)
        if profile.input_kind == "arrow":
            budget = NO_BUDGET  # as validate_arrow: the model has no Arrow measurements
        elif profile.input_kind == "ndjson" and not budget.empty and read_in_place(source):
            budget = budget._replace(in_memory=True)  # as _run: no read buffers
        if not self.adapt:
            # What its calls run (the archive is not asked: it said the selector's answer).
            from .budget import explain_budget

            cut = None if budget.empty else explain_budget(DEFAULT_CONFIGURATION, profile, budget)
            config = DEFAULT_CONFIGURATION if cut is None else BatchConfig(**cut["config"])
            return {
                "profile": dict(profile._asdict()),
                "step": DEFAULT_CONFIGURATION.source,  # (as the selector's: before the cut)
                "why": "adapt=False: every call runs the default configuration",
                "config": config._asdict(),
                "budget": cut,
                "live": None,
            }
        explained = self._get_selector().explain(profile, budget)
        # ``None`` before any evidence, or with ``online`` off.
        live = self._live_verdicts if verdicts_only else self._live
        explained["live"] = None if live is None else live.explain(profile)
        return explained

    # -- reading inputs (satya_adapt._inputs decides what an input is) -----------------------

    def _reading(
        self,
        source: Any,
        kind: Optional[str],
        *,
        str_is_text: bool,
        default: str,
        limit: Optional[int] = None,
        pointer: Optional[str] = None,
        name: str = "source",
    ) -> _Reading:
        """``source`` opened for the call, closed after it unless the caller passed it open
        (the command line and :mod:`satya_adapt.summary` pass an :class:`Opened`); with
        ``pointer``, the array it leads to in the JSON document (see :func:`open_input`).
        ``name``: the caller's parameter, for messages."""
        if isinstance(source, Opened):
            return _Reading(source, False)
        max_bytes = self.max_record_bytes if limit is None else limit
        if pointer is not None:
            _check_pointer(pointer)
        opened = open_input(
            source, kind, max_bytes=max_bytes, str_is_text=str_is_text, default=default,
            pointer=pointer, name=name,
        )  # fmt: skip
        return _Reading(opened, True)

    def _reading_data(
        self,
        source: Any,
        input_kind: Optional[str],
        limit: Optional[int] = None,
        pointer: Optional[str] = None,
        name: str = "source",
    ) -> Any:
        """``source`` (not records) for ``validate``/``iter_validate``/``profile``. A str is
        text when it holds a line break, starts with ``{`` or ``[`` or is only whitespace,
        else a path, whatever the kind (for the kind ``"json"`` it was always text: a path
        given as a str read as "expected a JSON array at byte 0")."""
        text = isinstance(source, str) and not source.strip()
        # A str that names a path reads as a path does (`Path` or str alike: NDJSON whose
        # records are arrays starts with `[` too), text as text.
        is_text = isinstance(source, (bytes, bytearray, memoryview)) or (
            isinstance(source, str) and (text or looks_like_text(source))
        )
        default = "json" if is_text else "ndjson"
        # With a pointer, a str is still a path unless it looks like text; read as JSON.
        kind = input_kind if pointer is None else "json"
        return self._reading(
            source, kind, str_is_text=text, default=default, limit=limit, pointer=pointer, name=name
        )

    def _detector(self, opened: Opened) -> Any:
        """The profile detection of opened JSON or NDJSON data (run only when selecting)."""
        if opened.kind == "json":
            return lambda: self._core.profile_json(opened.source, opened.span)
        return lambda: self._core.profile_ndjson(opened.source, opened.prefix)

    def _run(self, opened: Opened, call: _Call, limit: int) -> ValidationResult:
        if not call.budget.empty and opened.kind == "ndjson" and isinstance(opened.source, bytes):
            call = call._replace(budget=call.budget._replace(in_memory=True))  # (no read buffers)
        # JSON and NDJSON may be cut in two too (at a record): the engine switches configuration.
        config = self._config(self._detector(opened), call, live=True, sliceable=True)
        trial: Any = None
        if type(config) is SlicedTrial:
            trial, config = config, config.rest
        if opened.kind == "json":

            def engine(first: Any = None) -> Any:
                return self._core.validate_json(
                    opened.source, *config[:3], call.cap, False, first, call.verdicts_only,
                    opened.span,
                )

        else:

            def engine(first: Any = None) -> Any:
                return self._core.validate_ndjson(
                    opened.source, opened.prefix, *config[:3], limit, call.cap, False, first,
                    call.verdicts_only,
                )

        try:
            if trial is not None:
                result = self._sliced(call, engine, trial)
            else:
                result = self._timed(call, engine, config)
        except InputError as exc:
            raise InputError(placed_message(opened, str(exc))) from None
        if opened.document:
            result.errors = placed(opened, result.errors)
        return result

    # -- selection ----------------------------------------------------------------------------

    def _prepare_adaptation(self) -> None:
        """Reads the archive, and with ``online`` the online cache, now rather than in the
        first call: there they cost 0.05-0.4 ms more outside the engine (cold, after the
        engine's run; the archive's share once per file and process, the cache's once per
        process), 0.5-4% of a first call of 10,000 heavy-regex dicts. Never raises: whatever
        fails here fails again, and is answered as before, in the first call."""
        try:
            selector = self._get_selector()
            self._select = selector.select
            selector.prepare()
            if self.online:
                self._get_live().prepare()
        except Exception:
            pass

    def _get_selector(self) -> Any:
        if self._selector is None:
            from .selector import Selector

            self._selector = Selector.shared(self._archive)
        return self._selector

    def _timed(self, call: _Call, engine: Any, config: BatchConfig) -> ValidationResult:
        """Runs an engine call; with live verification, its timing is recorded for the cell."""
        live = self._live_verdicts if call.verdicts_only else self._live  # (_live_of, inline)
        if live is None:
            return _result(engine(), config)
        try:
            raw = engine()
        except BaseException:
            live.cancel(config)
            raise
        live.finish(config, len(raw[0]), raw[5])
        if type(config) is not BatchConfig:  # a live.QuietAnswer: the configuration alone
            config = BatchConfig(*config)
        return _result(raw, config)

    def _sliced(self, call: _Call, engine: Any, trial: SlicedTrial) -> ValidationResult:
        """A call whose first ``trial.warm + trial.records`` records try a candidate
        configuration (online refinement, see :meth:`satya_adapt.live.Cell._trial`) and whose
        other records run the incumbent's: one engine call that switches configuration at a
        chunk boundary, so its result is what any call gives; each part's timing goes to live
        verification. ``engine(first)`` runs the call with the incumbent's knobs after
        ``first``."""
        raw, (k, seconds, w, warm_seconds) = engine((trial.records, *trial[:3], trial.warm))
        rest_n, rest_seconds = len(raw[0]) - w - k, raw[5] - warm_seconds - seconds
        live = self._live_of(call)
        live.finish_sliced(trial, k, seconds, rest_n, rest_seconds, w, warm_seconds)
        return _result(raw, BatchConfig(*trial))

    def _live_of(self, call: _Call) -> Any:
        """The live verification a call's timing goes to (``None`` before any took part)."""
        return self._live_verdicts if call.verdicts_only else self._live

    def _get_live(self, verdicts_only: bool = False) -> Any:
        """The live verification of calls with (or, ``verdicts_only``, without) errors."""
        live = self._live_verdicts if verdicts_only else self._live
        if live is None:
            from .live import POOL_COST_RECORDS, POOL_COST_ROUNDS, Live

            core = self._core

            def pool_cost(records: Any) -> Any:
                return core.pool_cost(records, POOL_COST_RECORDS, POOL_COST_ROUNDS, verdicts_only)

            # Its first call that takes part is the first to run this validator's schema.
            live = Live(
                self._get_selector(),
                alpha=self.alpha,
                first_call_warms=True,
                pool_cost=pool_cost,
                start_pool=_start_pool,
                real_timings=True,
                verdicts_only=verdicts_only,
            )
            if verdicts_only:
                self._live_verdicts = live
            else:
                self._live = live
        return live

    def _max_errors(self, value: Any) -> Optional[int]:
        return self.max_errors if value is ... else _check_max_errors(value)

    def _max_record_bytes(self, value: Optional[int]) -> int:
        return self.max_record_bytes if value is None else _check_max_record_bytes(value)

    def _call(
        self,
        batch_size: Optional[int],
        micro_batch_size: Optional[int],
        threads: Optional[int],
        memory_budget: BytesArg,
        max_pause: SecondsArg,
        max_errors: Any,
        errors: Any = True,
    ) -> _Call:
        """A call's arguments, its budget and error cap resolved against the validator's."""
        if (
            batch_size is None and micro_batch_size is None and threads is None
            and memory_budget is None and max_pause is None and max_errors is ... and errors is True
        ):
            # A call that gives none of them (most calls): the validator's own, made once
            # (again when its budget or cap was changed since).
            plain = self._plain_call
            if plain is None or plain.budget is not self.budget or plain.cap != self.max_errors:
                plain = self._plain_call = _Call(None, None, None, self.budget, self.max_errors)
            return plain
        return _Call(
            batch_size,
            micro_batch_size,
            threads,
            self._call_budget(memory_budget, max_pause),
            self._max_errors(max_errors),
            _verdicts_only(errors),
        )

    def _config(
        self,
        detect: Any,
        call: _Call,
        live: bool = False,
        sliceable: bool = False,
        records: Any = None,
    ) -> BatchConfig:
        batch_size, micro_batch_size, threads, budget = call[:4]
        if batch_size is None and micro_batch_size is None and threads is None:
            if budget.empty:
                # The hot path: one profile detection (Rust) and a cached selection.
                if not self.adapt:
                    return DEFAULT_CONFIGURATION
                select = self._select
                if select is None:
                    select = self._select = self._get_selector().select
                # The selector takes the raw profile tuple: building a Profile costs ~0.5 us.
                profile = detect()
                if live and self.online:
                    n = profile[5] or 0
                    if n >= _LIVE_MIN_RECORDS or (
                        n >= _LIVE_MIN_SHORT_RECORDS and _short_call_takes_part(profile)
                    ):
                        # Live verification asks the selector only for a profile it has no
                        # route for (its cells keep their own answer). (Its lookup inline: a
                        # method call costs 0.5-0.7 us right after an engine call.)
                        on = self._live_verdicts if call.verdicts_only else self._live
                        if on is None:
                            on = self._get_live(call.verdicts_only)
                        live_config: BatchConfig = on.start(profile, select, sliceable, records)
                        return live_config
                chosen: BatchConfig = select(profile)
                return chosen
            return self._within_budget(detect(), budget)
        explicit = (
            None if batch_size is None else check_knob("batch_size", batch_size),
            None if micro_batch_size is None else check_knob("micro_batch_size", micro_batch_size),
            None if threads is None else check_knob("threads", threads),
        )
        b0, m0, t0 = explicit
        if b0 is not None and m0 is not None and t0 is not None:
            return BatchConfig(b0, m0, t0, source="explicit")
        if budget.empty or b0 is not None:
            if not self.adapt:
                chosen = DEFAULT_CONFIGURATION
            elif t0 is not None:  # chunks for the threads given (a pool's are larger)
                chosen = self._get_selector().select_for_threads(detect(), t0)
            else:
                chosen = self._get_selector().select(detect())
        else:  # the budget cuts the chosen batch_size, fitted to the explicit threads
            profile = detect()
            if t0 is not None:
                # Chosen for those threads, then cut once (cut before the threads were set,
                # and again after, it said "+budget+budget").
                chosen = (
                    self._get_selector().select_for_threads(profile, t0)
                    if self.adapt
                    else DEFAULT_CONFIGURATION
                )
                chosen = fit(chosen._replace(threads=t0), profile, budget)
            elif self.adapt:
                chosen = self._get_selector().select_within(profile, budget)
            else:
                chosen = fit(DEFAULT_CONFIGURATION, profile, budget)
        b, m, t = (e if e is not None else c for e, c in zip(explicit, chosen[:3]))
        # The knobs chosen are fitted to those given (a chosen micro_batch_size of 5,000 under
        # batch_size=100 showed in result.config, where the engine ran tasks of 100, one for
        # threads=2); the knobs given are run and shown as given.
        if m0 is None:
            # (with threads given, a task for each of them where the chunk has as many records)
            m = min(m, b if t0 is None else -(-b // t0))
        if t0 is None and t > 1:
            t = min(t, -(-b // m))
        return BatchConfig(b, m, t, source=f"explicit+{chosen.source}")

    def _call_budget(self, memory_budget: BytesArg, max_pause: SecondsArg) -> Budget:
        """The budget of a call: its own limits, else the validator's."""
        if memory_budget is None and max_pause is None:
            return self.budget
        own = make_budget(memory_budget, max_pause)
        return Budget(
            self.budget.memory if own.memory is None else own.memory,
            self.budget.pause if own.pause is None else own.pause,
        )

    def _within_budget(self, profile: Any, budget: Budget) -> BatchConfig:
        """The selected (or default) configuration, cut to ``budget`` by the model."""
        if self.adapt:
            chosen: BatchConfig = self._get_selector().select_within(profile, budget)
            return chosen
        return fit(DEFAULT_CONFIGURATION, profile, budget)

    def _prepare_objects(
        self,
        items: Iterable[Any],
        call: _Call,
        live: bool = False,
        arg: Tuple[str, str, str] = ("items", "validate_batch", "an iterable of records"),
    ) -> Tuple[Iterable[Any], BatchConfig]:
        """``arg``: the caller's parameter, method and what it takes, for messages (the user
        of ``validate(data)`` never wrote ``items``)."""
        name, method, takes = arg
        if isinstance(items, (list, tuple)):
            seq = items
            # A list may be cut in two: online refinement may try a candidate on a slice.
            config = self._config(
                lambda: self._core.profile_objects(seq, len(seq)), call, live, live, seq
            )
            return items, config
        if isinstance(items, Mapping):
            raise TypeError(
                f"`{name}` must be {takes}, got one {type(items).__name__}; wrap it in a"
                f" list (`{method}([record])`) or use `validate_one(record)`"
            )
        if _is_arrow(items):
            # (Iterated, a table gave its columns and a DataFrame its column names as records.)
            raise TypeError(
                f"`{name}` must be {takes}, got Arrow data (a {type(items).__name__});"
                " validate its rows with `validate_arrow(data)`"
            )
        if isinstance(items, (str, bytes, bytearray)):
            raise TypeError(
                f"`{name}` must be {takes}, got {type(items).__name__}; "
                "use validate_json for JSON text"
            )
        try:
            iterator = iter(items)
        except TypeError:
            raise TypeError(f"`{name}` must be {takes}, got {type(items).__name__}") from None
        head: List[Any] = []

        def detect() -> Any:
            head.extend(itertools.islice(iterator, PROFILE_SAMPLE))
            return self._core.profile_objects(head, None)

        config = self._config(detect, call)
        return (itertools.chain(head, iterator) if head else iterator), config


def _rebuild(
    document: Any,
    draft: Optional[str],
    strict: bool,
    resources: Optional[Mapping[str, Any]],
    formats: bool,
    archive: Optional[PathLike],
    adapt: bool,
    max_record_bytes: int,
    online: bool,
    alpha: float,
    memory_budget: Optional[int],
    max_pause: Optional[float],
    max_errors: Optional[int] = None,
) -> Validator:
    """A :class:`Validator` from what :meth:`Validator.__reduce__` pickled: compiled once per
    process (the same validator comes back for the same arguments)."""
    key = json.dumps(
        [document, draft, strict, resources, formats, None if archive is None else os.fspath(archive),
         adapt, max_record_bytes, online, alpha, memory_budget, max_pause, max_errors],
        sort_keys=True,
    )
    with _REBUILT_LOCK:
        found = _REBUILT.get(key)
    if found is not None:
        return found
    # Compiled as it was where it was pickled (its schema warnings were said there).
    schema = Schema.__new__(Schema)
    schema._init(document, draft, strict, resources, formats, warn=False)
    validator = Validator(
        schema,
        archive=archive,
        adapt=adapt,
        max_record_bytes=max_record_bytes,
        online=online,
        alpha=alpha,
        memory_budget=memory_budget,
        max_pause=max_pause,
        max_errors=max_errors,
    )
    with _REBUILT_LOCK:
        if len(_REBUILT) >= _REBUILT_MAX:
            _REBUILT.clear()
        return _REBUILT.setdefault(key, validator)


#: Validators unpickled in this process, by their pickled arguments (see :func:`_rebuild`).
_REBUILT: Dict[str, Validator] = {}
_REBUILT_MAX = 64
_REBUILT_LOCK = threading.Lock()


class _Reading:
    """An opened input as a context manager that closes it on exit when the call opened it
    (a class, not ``@contextmanager``: its generator cost 1.5 us, a quarter of a
    one-record ``validate_json`` call)."""

    __slots__ = ("opened", "owned")

    def __init__(self, opened: Opened, owned: bool) -> None:
        self.opened = opened
        self.owned = owned

    def __enter__(self) -> Opened:
        return self.opened

    def __exit__(self, *exc: Any) -> None:
        if self.owned:
            self.opened.close()


def _result(raw: Any, config: BatchConfig) -> ValidationResult:
    valid, errors, chunks, tasks, peak_bytes, seconds, start, max_gil_hold, omitted = raw
    stats = EngineStats(chunks, tasks, peak_bytes, seconds, max_gil_hold)
    return ValidationResult(valid, errors, config, stats, start, omitted)


def _verdicts_only(errors: Any) -> bool:
    """A call's ``errors`` (a bool), as whether it asks for the verdicts alone."""
    if not isinstance(errors, bool):
        raise TypeError(f"`errors` must be True or False, got {errors!r}")
    return not errors


#: The most a count the engine takes can be: a larger ``max_errors`` or ``max_record_bytes``
#: means the same (no call comes near it), and 2**64 raised a bare ``OverflowError`` at the
#: first call.
_MOST = sys.maxsize


def _check_max_errors(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"`max_errors` must be None or an int >= 0, got {_shown_int(value)}")
    return min(value, _MOST)


def _check_max_record_bytes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`max_record_bytes` must be a positive int, got {_shown_int(value)}")
    return min(value, _MOST)


def _shown_int(value: Any) -> str:
    """``repr(value)`` for a message, cut short (a huge int's repr has thousands of digits,
    or raises past Python's limit on them)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**60:
        digits = int(value.bit_length() * 0.30103) + 1
        return f"{'a negative' if value < 0 else 'an'} int of about {digits} digits"
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


def _pointer_kind(input_kind: Optional[str]) -> str:
    """The input kind of a call with a ``pointer``: one JSON document."""
    if input_kind not in (None, "json"):
        raise ValueError(
            f"`pointer` selects the records of one JSON document: not with input_kind={input_kind!r}"
        )
    return "json"


def _check_pointer(pointer: Any) -> str:
    if not isinstance(pointer, str):
        raise TypeError(f"`pointer` must be a str (a JSON Pointer such as '/items'), got {type(pointer).__name__}")
    return pointer


def _takes(input_kind: Optional[str]) -> str:
    """What a ``data``/``source`` read as records takes, for a message: with the kind guessed,
    data of the other kinds too."""
    if input_kind is None:
        return "an iterable of records, bytes, str, a path or a binary file object"
    return "an iterable of records"


def _input_kind(source: Any, input_kind: Optional[str], arrow: bool = False) -> str:
    """``input_kind`` checked; when omitted, ``"dicts"`` for records, else ``"data"`` (bytes,
    str, a path, a binary file object: its content decides, in :mod:`satya_adapt._inputs`).
    ``arrow``: the caller reads Arrow data too (``"arrow"``, also when it is guessed)."""
    if input_kind is None:
        if isinstance(source, (bytes, bytearray, memoryview, str, os.PathLike, Opened)):
            return "data"
        if arrow and _is_arrow(source):
            return "arrow"
        return "data" if hasattr(source, "read") else "dicts"
    if arrow and input_kind == "arrow":
        return input_kind
    if input_kind not in INPUT_KINDS:
        kinds = "'dicts', 'json', 'ndjson' or 'arrow'" if arrow else "'dicts', 'json' or 'ndjson'"
        raise ValueError(f"`input_kind` must be {kinds}, got {input_kind!r}")
    return input_kind


def _is_arrow(data: Any) -> bool:
    """Whether ``data`` is Arrow data, read by :meth:`Validator.validate_arrow`: an object
    exporting the Arrow C stream or array interface, or a pandas DataFrame."""
    kind = type(data)
    return (
        hasattr(kind, "__arrow_c_stream__")
        or hasattr(kind, "__arrow_c_array__")
        or (kind.__name__ == "DataFrame" and kind.__module__.split(".")[0] == "pandas")
    )
