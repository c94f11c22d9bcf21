"""Which engines run for a submission, and the audits that judge what they observe.

Submodules are imported on first use, so `parity logs check` does not pay for the model engines.
"""

from parity._lazy import lazy_exports

__all__ = ["ENGINES", "AuditContext", "AuditResult", "Engine", "check"]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AuditResult": "check",
        "check": "check",  # the function shadows the submodule of the same name once looked up
        "ENGINES": "engines",
        "AuditContext": "engines",
        "Engine": "engines",
    },
)
