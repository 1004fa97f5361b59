"""The exceptions and the warning satya-adapt raises. A leaf module: it imports nothing of ours.

A failing record is data (a :class:`~satya_adapt.RecordError` in ``result.errors``),
never an exception. Exceptions are for what stops a call.
"""

from __future__ import annotations

__all__ = ["SatyaAdaptError", "SchemaError", "InputError", "ArchiveError", "ArchiveWarning"]


class SatyaAdaptError(Exception):
    """Base class of every exception satya-adapt raises on purpose."""


class SchemaError(SatyaAdaptError, ValueError):
    """The schema cannot be compiled: an unknown keyword, a bad value, an invalid regex."""


class InputError(SatyaAdaptError, ValueError):
    """The input as a whole cannot be read: a broken JSON array, an unreadable file."""


class ArchiveError(SatyaAdaptError, ValueError):
    """An archive file is malformed, of an unknown version, or cannot be written."""


class ArchiveWarning(UserWarning):
    """The archive in use could not be trusted; the heuristic answers instead."""
