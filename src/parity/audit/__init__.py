"""Which engines run for a submission, and the audit that judges what they observe."""

from parity.audit.check import AuditResult, check
from parity.audit.engines import ENGINES, AuditContext, Engine

__all__ = ["ENGINES", "AuditContext", "AuditResult", "Engine", "check"]
