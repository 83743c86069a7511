"""Other rooms' contributions to the sweep (R11).

A later room (the quarterly returns) knows what it wants flagged, but the sweep must not
import upwards; such a room registers a function here in its AppConfig.ready, and the
sweep adds what each returns to the flags it reconciles for a provider.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

# (provider_id, on) -> {(kind, subject): compliance.evaluation.Finding}
FlagSource = Callable[..., dict[tuple[str, str], Any]]

_SOURCES: list[FlagSource] = []


def register(source: FlagSource) -> None:
    """Add ``source`` once (a repeated ``ready`` does not add it twice)."""
    if source not in _SOURCES:
        _SOURCES.append(source)


def extra_flags(*, provider_id: int, on: date) -> dict[tuple[str, str], Any]:
    """What every registered source wants flagged for one provider on day ``on``."""
    out: dict[tuple[str, str], Any] = {}
    for source in _SOURCES:
        out.update(source(provider_id=provider_id, on=on))
    return out
