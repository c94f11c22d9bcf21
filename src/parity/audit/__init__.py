"""Which engines run for a submission, and the audits that judge what they observe.

Submodules are imported on first use, so `parity logs check` does not pay for the model engines.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["ENGINES", "AuditContext", "AuditResult", "Engine", "check"]

_HOME = {
    "AuditResult": "check",
    "check": "check",
    "ENGINES": "engines",
    "AuditContext": "engines",
    "Engine": "engines",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(name)
    value = getattr(import_module(f"parity.audit.{_HOME[name]}"), name)
    globals()[name] = value  # later lookups skip this function (and shadow the submodule of the same name)
    return value
