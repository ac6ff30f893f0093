"""Build a back end by kind: the one place that knows every kind.

Not in models.backend: the flash kinds import that module, and the
factory imports them, so there it would close an import circle.
"""

from __future__ import annotations

from typing import Any

from models.backend import Backend, NvmBackend
from models.flash import ConvFtl, OcssdBackend, ZnsBackend

_KINDS: dict[str, type[Backend]] = {"nvm": NvmBackend, "conv": ConvFtl, "ocssd": OcssdBackend, "zns": ZnsBackend}


def make_backend(kind: str, **config: Any) -> Backend:
    """Build a back end by kind: ``nvm``, ``conv``, ``ocssd`` or ``zns``.

    ``config`` goes to the kind's constructor. The flash kinds take
    ``preset`` (a name from ``models.flash.config.PRESETS``, default
    ``"ox"``) or explicit ``geometry`` / ``timing`` objects, plus their own
    options (see ``NvmBackend``, ``ConvFtl``, ``OcssdBackend``, ``ZnsBackend``).
    """
    if kind not in _KINDS:
        raise ValueError(f"unknown back-end kind {kind!r}; known: {', '.join(_KINDS)}")
    return _KINDS[kind](**config)
