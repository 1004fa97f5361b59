"""`Validator`: validate records with a batch configuration chosen per call."""

from __future__ import annotations

import itertools
import os
import stat
from typing import IO, Any, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from .config import DEFAULT_CONFIGURATION, READ_AHEAD_BYTES, BatchConfig, check_knob
from .errors import InputError
from .profile import INPUT_KINDS, Profile
from .result import EngineStats, RecordError, ValidationResult
from .schema import Schema, model_json_schema

__all__ = ["Validator"]

#: How many records of a generator are read ahead to detect its profile.
PROFILE_SAMPLE = 4
#: The longest NDJSON line (record) accepted unless ``max_record_bytes`` says otherwise.
DEFAULT_MAX_RECORD_BYTES = 64 * 1024 * 1024

PathLike = Union[str, "os.PathLike[str]"]
JsonData = Union[bytes, bytearray, memoryview, str]
NdjsonSource = Union[bytes, bytearray, memoryview, PathLike, Any]


class Validator:
    """Validates records against one schema; thread-safe, compile once, validate many.

    Every call picks its batch configuration: explicit arguments win, else (``adapt=True``)
    the archive is asked for the call's profile, else the default configuration is used.
    ``archive`` is a path to an archive file; ``None`` discovers one (``SATYA_ADAPT_ARCHIVE``,
    then the shipped archive). ``max_record_bytes`` is the longest NDJSON line accepted (a longer one raises
    :class:`InputError`); a call's own ``max_record_bytes`` wins. ``draft``, ``strict`` and
    ``resources`` are passed to :meth:`Schema.from_json_schema` when ``schema`` is a document.
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
        max_errors: Optional[int] = None,
    ) -> None:
        if isinstance(schema, Schema):
            if draft is not None or strict or resources is not None:
                raise ValueError("`draft`, `strict` and `resources` apply to a JSON Schema document, not a `Schema`")
            self.schema = schema
        elif isinstance(schema, (Mapping, bool)):
            self.schema = Schema.from_json_schema(schema, draft=draft, strict=strict, resources=resources)
        else:
            document = model_json_schema(schema)
            if document is None:
                raise TypeError(
                    "`schema` must be a JSON Schema (a dict or a bool), a `Schema`, a pydantic model or"
                    " TypeAdapter, a msgspec Struct type, a dataclass or a TypedDict, got"
                    f" {type(schema).__name__}"
                )
            self.schema = Schema.from_json_schema(document, draft=draft, strict=strict, resources=resources)
        self._core = self.schema._compiled
        self.adapt = bool(adapt)
        if archive is not None and not isinstance(archive, (str, os.PathLike)):
            raise TypeError(f"`archive` must be a path, got {type(archive).__name__}")
        self._archive = archive
        self.max_record_bytes = _check_max_record_bytes(max_record_bytes)
        self.max_errors = _check_max_errors(max_errors)
        self._selector: Any = None
        self._select: Any = None

    # -- public API -------------------------------------------------------------------------

    def validate_batch(
        self,
        items: Iterable[Any],
        *,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
    ) -> ValidationResult:
        """Validates records given as Python objects: a list, a tuple or any iterable.

        A generator is consumed chunk by chunk (``batch_size`` records at a time), never whole.
        """
        items, config = self._prepare_objects(items, batch_size, micro_batch_size, threads)
        raw = self._core.validate_objects(items, *config[:3], self._max_errors(max_errors))
        return _result(raw, config)

    def validate_json(
        self,
        data: JsonData,
        *,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
    ) -> ValidationResult:
        """Validates the elements of a JSON array given as bytes or str, parsed in Rust.

        A broken array (truncated, not an array, a malformed element) raises :class:`InputError`.
        """
        data = _json_bytes(data)
        config = self._config(lambda: self._core.profile_json(data), batch_size, micro_batch_size, threads)
        return _result(self._core.validate_json(data, *config[:3], self._max_errors(max_errors)), config)

    def validate_ndjson(
        self,
        source: NdjsonSource,
        *,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_record_bytes: Optional[int] = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
    ) -> ValidationResult:
        """Validates NDJSON: bytes, a path, or a binary file object, streamed in chunks.

        Memory stays bounded by ``batch_size`` lines whatever the size of a file. A line that
        is not valid JSON (or not UTF-8) is an error of that record, keyword ``json``. A line
        longer than ``max_record_bytes`` (default: the validator's) raises :class:`InputError`
        once that many bytes of it are read, so a stream without newlines ends too.
        """
        limit = self._max_record_bytes(max_record_bytes)
        cap = self._max_errors(max_errors)
        src, prefix, opened = _ndjson_source(source)
        try:
            config = self._config(
                lambda: self._core.profile_ndjson(src, prefix), batch_size, micro_batch_size, threads
            )
            return _result(self._core.validate_ndjson(src, prefix, *config[:3], limit, cap), config)
        finally:
            if opened is not None:
                opened.close()

    def validate(
        self,
        data: Any,
        *,
        input_kind: Optional[str] = None,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
    ) -> ValidationResult:
        """Validates ``data`` of any input kind: :meth:`validate_batch` for ``"dicts"``,
        :meth:`validate_json` for ``"json"``, :meth:`validate_ndjson` for ``"ndjson"``.

        When ``input_kind`` is omitted it is guessed as :meth:`iter_validate` does.
        """
        kind = _input_kind(data, input_kind)
        if kind == "dicts":
            run: Any = self.validate_batch
        elif kind == "json":
            run = self.validate_json
        else:
            run = self.validate_ndjson
        result: ValidationResult = run(
            data,
            batch_size=batch_size,
            micro_batch_size=micro_batch_size,
            threads=threads,
            max_errors=max_errors,
        )
        return result

    def iter_validate(
        self,
        source: Any,
        *,
        input_kind: Optional[str] = None,
        batch_size: Optional[int] = None,
        micro_batch_size: Optional[int] = None,
        threads: Optional[int] = None,
        max_record_bytes: Optional[int] = None,
        max_errors: Optional[int] = ...,  # type: ignore[assignment]
    ) -> Iterator[ValidationResult]:
        """Yields one result per chunk of ``batch_size`` records, for streams.

        ``input_kind`` is ``"dicts"``, ``"json"`` or ``"ndjson"``; when omitted, bytes and
        str are a JSON array, a path or binary file object is NDJSON, anything else is an
        iterable of records. Record indexes in errors count from the start of the input.
        ``max_record_bytes`` limits NDJSON lines as in :meth:`validate_ndjson`.
        """
        limit = self._max_record_bytes(max_record_bytes)
        cap = self._max_errors(max_errors)
        kind = _input_kind(source, input_kind)
        if kind == "dicts":
            items, config = self._prepare_objects(source, batch_size, micro_batch_size, threads)
            chunks = self._core.iter_objects(items, *config[:3], cap)
        elif kind == "json":
            data = _json_bytes(source)
            config = self._config(
                lambda: self._core.profile_json(data), batch_size, micro_batch_size, threads
            )
            chunks = self._core.iter_json(data, *config[:3], cap)
        else:
            src, prefix, opened = _ndjson_source(source)
            try:
                config = self._config(
                    lambda: self._core.profile_ndjson(src, prefix), batch_size, micro_batch_size, threads
                )
                chunks = self._core.iter_ndjson(src, prefix, *config[:3], limit, cap)
                for raw in chunks:
                    yield _result(raw, config)
            finally:
                if opened is not None:
                    opened.close()
            return
        for raw in chunks:
            yield _result(raw, config)

    def is_valid(self, record: Any) -> bool:
        """Whether one record is valid: checked in place on this thread, with no batch
        configuration, profile or selection, and no error built."""
        return bool(self._core.is_valid(record))

    def validate_one(self, record: Any, *, max_errors: Optional[int] = ...) -> List[RecordError]:  # type: ignore[assignment]
        """The errors of one record (``index`` 0), ``[]`` when it is valid; at most
        ``max_errors`` of them (default: the validator's). Checked as :meth:`is_valid` is."""
        errors, _omitted = self._core.errors_of(record, self._max_errors(max_errors))
        return list(errors)

    def profile(self, source: Any, *, input_kind: Optional[str] = None) -> Profile:
        """Detects the profile of ``source`` from a small sample, as a validate call would."""
        kind = _input_kind(source, input_kind)
        if kind == "dicts":
            if isinstance(source, (list, tuple)):
                return Profile(*self._core.profile_objects(source, len(source)))
            sample = list(itertools.islice(iter(source), PROFILE_SAMPLE))
            return Profile(*self._core.profile_objects(sample, None))
        if kind == "json":
            return Profile(*self._core.profile_json(_json_bytes(source)))
        src, prefix, opened = _ndjson_source(source)
        try:
            return Profile(*self._core.profile_ndjson(src, prefix))
        finally:
            if opened is not None:
                opened.close()

    def explain(self, source: Any, *, input_kind: Optional[str] = None) -> Any:
        """How a call on ``source`` would choose its batch configuration, step by step."""
        profile = self.profile(source, input_kind=input_kind)
        return self._get_selector().explain(profile)

    # -- selection ----------------------------------------------------------------------------

    def _get_selector(self) -> Any:
        if self._selector is None:
            from .selector import Selector

            self._selector = Selector.shared(self._archive)
        return self._selector

    def _max_errors(self, value: Any) -> Optional[int]:
        return self.max_errors if value is ... else _check_max_errors(value)

    def _max_record_bytes(self, value: Optional[int]) -> int:
        return self.max_record_bytes if value is None else _check_max_record_bytes(value)

    def _config(
        self,
        detect: Any,
        batch_size: Optional[int],
        micro_batch_size: Optional[int],
        threads: Optional[int],
    ) -> BatchConfig:
        if batch_size is None and micro_batch_size is None and threads is None:
            # The hot path: one profile detection (Rust) and a cached selection.
            if not self.adapt:
                return DEFAULT_CONFIGURATION
            select = self._select
            if select is None:
                select = self._select = self._get_selector().select
            # The selector takes the raw profile tuple: building a Profile costs ~0.5 us.
            chosen: BatchConfig = select(detect())
            return chosen
        explicit = (
            None if batch_size is None else check_knob("batch_size", batch_size),
            None if micro_batch_size is None else check_knob("micro_batch_size", micro_batch_size),
            None if threads is None else check_knob("threads", threads),
        )
        b0, m0, t0 = explicit
        if b0 is not None and m0 is not None and t0 is not None:
            return BatchConfig(b0, m0, t0, source="explicit")
        chosen = self._get_selector().select(detect()) if self.adapt else DEFAULT_CONFIGURATION
        b, m, t = (e if e is not None else c for e, c in zip(explicit, chosen[:3]))
        return BatchConfig(b, m, t, source=f"explicit+{chosen.source}")

    def _prepare_objects(
        self,
        items: Iterable[Any],
        batch_size: Optional[int],
        micro_batch_size: Optional[int],
        threads: Optional[int],
    ) -> Tuple[Iterable[Any], BatchConfig]:
        if isinstance(items, (list, tuple)):
            seq = items
            config = self._config(
                lambda: self._core.profile_objects(seq, len(seq)), batch_size, micro_batch_size, threads
            )
            return items, config
        if isinstance(items, Mapping):
            raise TypeError(
                f"`items` must be an iterable of records, got one {type(items).__name__}; wrap it in a"
                " list (`validate_batch([record])`) or use `validate_one(record)`"
            )
        if isinstance(items, (str, bytes, bytearray)):
            raise TypeError(
                f"`items` must be an iterable of records, got {type(items).__name__}; "
                "use validate_json for JSON text"
            )
        try:
            iterator = iter(items)
        except TypeError:
            raise TypeError(f"`items` must be an iterable of records, got {type(items).__name__}") from None
        head: List[Any] = []

        def detect() -> Any:
            head.extend(itertools.islice(iterator, PROFILE_SAMPLE))
            return self._core.profile_objects(head, None)

        config = self._config(detect, batch_size, micro_batch_size, threads)
        return (itertools.chain(head, iterator) if head else iterator), config


def _result(raw: Any, config: BatchConfig) -> ValidationResult:
    valid, errors, chunks, tasks, peak_bytes, seconds, start, omitted = raw
    return ValidationResult(
        valid, errors, config, EngineStats(chunks, tasks, peak_bytes, seconds), start, omitted
    )


def _check_max_errors(value: Any) -> Optional[int]:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"`max_errors` must be None or an int >= 0, got {value!r}")
    return value


def _json_bytes(data: Any) -> bytes:
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        try:
            return data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InputError(f"the JSON text is not valid Unicode: {exc.reason}") from None
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError(f"`data` must be bytes or str holding a JSON array, got {type(data).__name__}")


def _check_max_record_bytes(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"`max_record_bytes` must be a positive int, got {value!r}")
    return value


def _ndjson_source(source: Any) -> Tuple[Any, bytes, Optional[IO[bytes]]]:
    """Normalises an NDJSON source to bytes, a path str, or a binary reader, plus a read-ahead
    prefix (already consumed from a reader, for profile detection; the engine reads it first),
    plus the file this function opened (the caller closes it).

    A path to a regular file is read by the engine; a path to anything else that can be read
    (a FIFO, a character device such as ``/dev/stdin``) is opened here and read as a stream.
    """
    if isinstance(source, bytes):
        return source, b"", None
    if isinstance(source, (bytearray, memoryview)):
        return bytes(source), b"", None
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not isinstance(path, str):
            path = os.fsdecode(path)
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise InputError(f"no such NDJSON file: {path!r}") from None
        except OSError as exc:
            raise InputError(f"cannot open NDJSON file {path!r}: {exc.strerror or exc}") from None
        if stat.S_ISREG(mode):
            return path, b"", None
        if stat.S_ISDIR(mode):
            raise InputError(f"cannot read NDJSON file {path!r}: it is a directory")
        try:
            stream = open(path, "rb")
        except OSError as exc:
            raise InputError(f"cannot open NDJSON file {path!r}: {exc.strerror or exc}") from None
        try:
            return stream, _read_prefix(stream.read), stream
        except BaseException:
            stream.close()
            raise
    read = getattr(source, "read", None)
    if read is None:
        raise TypeError(
            f"`source` must be NDJSON bytes, a path or a binary file object, got {type(source).__name__}"
        )
    return source, _read_prefix(read), None


def _read_prefix(read: Any) -> bytes:
    """The first bytes of a binary stream, read with its ``read``; the engine's rules for what
    ``read`` returns (any bytes-like object; ``None`` and ``str`` are refused)."""
    prefix = read(READ_AHEAD_BYTES)
    if isinstance(prefix, bytes):
        return prefix
    if prefix is None:
        raise InputError(
            "`read()` of the NDJSON file object returned None (a non-blocking stream with no"
            " data ready); pass a blocking binary stream"
        )
    if isinstance(prefix, str):
        raise TypeError("`source` must be opened in binary mode ('rb'), not text mode")
    try:
        return bytes(memoryview(prefix))
    except TypeError:
        raise TypeError(
            f"`read()` of the NDJSON file object must return bytes, got {type(prefix).__name__}"
        ) from None


def _input_kind(source: Any, input_kind: Optional[str]) -> str:
    """``input_kind`` checked, or guessed from ``source`` when omitted."""
    kind = input_kind or _guess_kind(source)
    if kind not in INPUT_KINDS:
        raise ValueError(f"`input_kind` must be 'dicts', 'json' or 'ndjson', got {input_kind!r}")
    return kind


def _guess_kind(source: Any) -> str:
    if isinstance(source, (bytes, bytearray, memoryview, str)):
        return "json"
    if isinstance(source, os.PathLike) or hasattr(source, "read"):
        return "ndjson"
    return "dicts"
