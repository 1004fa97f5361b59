"""Selection of a batch configuration for a profile (placeholder until the archive lands:
answers with the default configuration)."""

from __future__ import annotations

from typing import Any, Dict, Optional

from .config import DEFAULT_CONFIGURATION, BatchConfig
from .profile import Profile


class Selector:
    _shared: Dict[Any, "Selector"] = {}

    @classmethod
    def shared(cls, archive: Optional[Any]) -> "Selector":
        key = archive
        if key not in cls._shared:
            cls._shared[key] = cls()
        return cls._shared[key]

    def select(self, profile: Profile) -> BatchConfig:
        return DEFAULT_CONFIGURATION

    def explain(self, profile: Profile) -> Dict[str, Any]:
        return {"profile": profile, "config": DEFAULT_CONFIGURATION}
