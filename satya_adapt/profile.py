"""The profile of one call: cheap, measured features of its data and schema.

Detection happens in Rust from a small sample of the input (see
``crates/core/src/profile.rs`` and ``detect.rs``); this module only names the fields.
"""

from __future__ import annotations

from typing import NamedTuple, Optional

__all__ = ["Profile", "INPUT_KINDS", "PROFILE_KINDS"]

#: The input kinds of :meth:`Validator.validate` and of the optimizer's workloads.
INPUT_KINDS = ("dicts", "json", "ndjson")
#: Every ``input_kind`` a profile (and an archive cell) can have: Arrow data
#: (:meth:`Validator.validate_arrow`) too. An archive whose grid lacks a kind answers it
#: with the heuristic.
PROFILE_KINDS = (*INPUT_KINDS, "arrow")


class Profile(NamedTuple):
    """Features of one call.

    - ``field_count``: leaf fields of the schema (properties that are not objects,
      counted through nested objects; array items count once).
    - ``avg_string_length``: mean length in characters of the string leaves in the sample.
    - ``constraint_complexity``: 0..1, the cost-weighted score of the schema's checks
      (computed once per compiled schema; regex and formats weigh more than bounds; a
      reference, each `anyOf`/`oneOf` branch tried, `if`, `unevaluated*`, `contains` and
      `propertyNames` add what they make the engine do).
    - ``object_size``: bytes per record; exact for JSON input (mean over the sampled
      records' spans), estimated from the serialised size of the sample for dicts.
    - ``input_kind``: ``"dicts"``, ``"json"``, ``"ndjson"`` or ``"arrow"``.
    - ``n``: records in the call when known (a list, an array whose size was estimated
      from bytes, a file), else ``None`` (a generator).
    - ``n_estimated``: whether ``n`` was estimated from the input's size in bytes (JSON or
      NDJSON longer than the sample), as likely short as long; ``False`` when ``n`` is exact
      or unknown. The selector adds a margin to an estimated ``n`` before it clamps
      ``batch_size`` to it (see :func:`satya_adapt.config.clamp_n`).
    """

    field_count: int
    avg_string_length: float
    constraint_complexity: float
    object_size: float
    input_kind: str
    n: Optional[int]
    n_estimated: bool = False
