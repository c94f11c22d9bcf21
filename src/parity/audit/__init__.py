"""The engines (what each reads and emits), and the audits that run them and judge what they observe.

Submodules are imported on first use, so `parity logs check` does not pay for the model engines.
"""

from parity._lazy import lazy_exports

__all__ = ["ENGINES", "AuditContext", "AuditResult", "Engine", "check", "engines_for"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AuditResult": "check",
        "check": "check",  # the function shadows the submodule of the same name once looked up
        "ENGINES": "engines",
        "AuditContext": "check",
        "engines_for": "engines",
        "Engine": "engines",
    },
)
