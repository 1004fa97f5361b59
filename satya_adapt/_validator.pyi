"""Type stubs for the Rust extension `satya_adapt._validator` (private; use the package API)."""

from typing import Any, Iterable, Iterator, List, Literal, Optional, Tuple, Union, overload

# (valid, errors, chunks, tasks, peak_bytes, seconds, start, max_gil_hold, errors_omitted)
RawResult = Tuple[List[bool], List["RecordError"], int, int, int, float, int, float, int]
# (field_count, avg_string_length, constraint_complexity, object_size, input_kind, n, n_estimated)
RawProfile = Tuple[int, float, float, float, str, Optional[int], bool]
NdjsonSource = Union[bytes, str, Any]
# A sliced trial's first part: (records, batch_size, micro_batch_size, threads); the engine
# runs the call's first records with these knobs and the rest with the call's, and answers
# (raw result, (records, seconds) of the first part).
Trial = Tuple[int, int, int, int]

MAX_DEPTH: int
READ_AHEAD_BYTES: int

def locate(data: bytes, pointer: str) -> Tuple[int, int]:
    """The byte range of the value the JSON Pointer leads to in the JSON text ``data``."""
    ...

def _remember_every_visit(on: bool) -> None: ...
def _start_pool() -> None: ...

class RecordError:
    """One failure of one record."""

    @property
    def index(self) -> int: ...
    @property
    def path(self) -> str: ...
    @property
    def keyword(self) -> str: ...
    @property
    def message(self) -> str: ...
    @property
    def schema_path(self) -> str: ...
    def __init__(self, index: int, path: str, keyword: str, message: str, schema_path: str = "") -> None: ...
    def __reduce__(self) -> Tuple[type, Tuple[int, str, str, str, str]]: ...
    def __eq__(self, other: object) -> bool: ...
    def __hash__(self) -> int: ...

class CompiledSchema:
    def __init__(
        self,
        schema_json: str,
        draft: Optional[str] = None,
        strict: bool = False,
        resources_json: Optional[str] = None,
        formats: bool = True,
    ) -> None: ...
    @property
    def warnings(self) -> list[str]: ...
    @property
    def field_count(self) -> int: ...
    @property
    def constraint_complexity(self) -> float: ...
    # Each validate_* returns the raw result of the whole call, or with ``chunked=True`` an
    # iterator of one raw result per chunk (for ``iter_validate``).
    @overload
    def validate_objects(
        self, items: Iterable[Any], batch_size: int, micro_batch_size: int, threads: int,
        max_errors: Optional[int], chunked: Literal[False] = False,
        max_hold: Optional[float] = None, trial: None = None, verdicts_only: bool = False,
    ) -> RawResult: ...
    @overload
    def validate_objects(
        self, items: Iterable[Any], batch_size: int, micro_batch_size: int, threads: int,
        max_errors: Optional[int], chunked: Literal[False], max_hold: Optional[float],
        trial: Trial, verdicts_only: bool = False,
    ) -> Tuple[RawResult, Tuple[int, float]]: ...
    @overload
    def validate_objects(
        self, items: Iterable[Any], batch_size: int, micro_batch_size: int, threads: int,
        max_errors: Optional[int], chunked: Literal[True], max_hold: Optional[float] = None,
        trial: None = None, verdicts_only: bool = False,
    ) -> Iterator[RawResult]: ...
    @overload
    def validate_json(
        self, data: bytes, batch_size: int, micro_batch_size: int, threads: int,
        max_errors: Optional[int], chunked: Literal[False] = False, trial: None = None,
        verdicts_only: bool = False, span: Optional[Tuple[int, int]] = None,
    ) -> RawResult: ...
    @overload
    def validate_json(
        self, data: bytes, batch_size: int, micro_batch_size: int, threads: int,
        max_errors: Optional[int], chunked: Literal[False], trial: Trial, verdicts_only: bool = False,
        span: Optional[Tuple[int, int]] = None,
    ) -> Tuple[RawResult, Tuple[int, float]]: ...
    @overload
    def validate_json(
        self, data: bytes, batch_size: int, micro_batch_size: int, threads: int,
        max_errors: Optional[int], chunked: Literal[True], trial: None = None,
        verdicts_only: bool = False, span: Optional[Tuple[int, int]] = None,
    ) -> Iterator[RawResult]: ...
    @overload
    def validate_ndjson(
        self, source: NdjsonSource, prefix: bytes, batch_size: int, micro_batch_size: int,
        threads: int, max_record_bytes: int, max_errors: Optional[int],
        chunked: Literal[False] = False, trial: None = None, verdicts_only: bool = False,
    ) -> RawResult: ...
    @overload
    def validate_ndjson(
        self, source: NdjsonSource, prefix: bytes, batch_size: int, micro_batch_size: int,
        threads: int, max_record_bytes: int, max_errors: Optional[int],
        chunked: Literal[False], trial: Trial, verdicts_only: bool = False,
    ) -> Tuple[RawResult, Tuple[int, float]]: ...
    @overload
    def validate_ndjson(
        self, source: NdjsonSource, prefix: bytes, batch_size: int, micro_batch_size: int,
        threads: int, max_record_bytes: int, max_errors: Optional[int], chunked: Literal[True],
        trial: None = None,
        verdicts_only: bool = False,
    ) -> Iterator[RawResult]: ...
    def is_valid(self, record: Any) -> bool: ...
    def errors_of(self, record: Any, max_errors: Optional[int]) -> Tuple[List[RecordError], int]: ...
    def profile_objects(self, items: Any, n: Optional[int]) -> RawProfile: ...
    def pool_cost(
        self, items: Any, k: int, rounds: int, verdicts_only: bool = False
    ) -> Optional[Tuple[float, float]]: ...
    def profile_json(self, data: bytes, span: Optional[Tuple[int, int]] = None) -> RawProfile: ...
    def profile_ndjson(self, source: NdjsonSource, prefix: bytes) -> RawProfile: ...

class ArrowSource:
    """An Arrow C stream (an ``arrow_array_stream`` capsule) taken over for validation."""

    def __init__(self, capsule: Any, null_as_absent: bool) -> None: ...
    def profile(self, schema: CompiledSchema, n: Optional[int]) -> RawProfile: ...
    def validate(
        self, schema: CompiledSchema, batch_size: int, micro_batch_size: int, threads: int,
        max_errors: Optional[int] = None, verdicts_only: bool = False,
    ) -> RawResult: ...
