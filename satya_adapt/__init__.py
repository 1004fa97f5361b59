"""satya-adapt: fast batch validation with batch sizes chosen per call.

>>> from satya_adapt import Schema, Field, Validator
>>> v = Validator(Schema({"name": Field(str, min_length=1), "age": Field(int, ge=0)}))
>>> v.validate_batch([{"name": "a", "age": 1}, {"name": "", "age": -1}]).valid
[True, False]
"""

from __future__ import annotations

from ._validator import RecordError
from .config import DEFAULT_CONFIGURATION, BatchConfig
from .errors import (
    ArchiveError,
    ArchiveWarning,
    BudgetWarning,
    InputError,
    SatyaAdaptError,
    SchemaError,
    SchemaWarning,
)
from .profile import Profile
from .result import EngineStats, ValidationResult
from .schema import Field, Schema
from .validator import Validator

__version__ = "0.1.0"

__all__ = [
    "ArchiveError",
    "ArchiveWarning",
    "BatchConfig",
    "BudgetWarning",
    "DEFAULT_CONFIGURATION",
    "EngineStats",
    "Field",
    "InputError",
    "Profile",
    "RecordError",
    "SatyaAdaptError",
    "Schema",
    "SchemaError",
    "SchemaWarning",
    "ValidationResult",
    "Validator",
    "__version__",
]
