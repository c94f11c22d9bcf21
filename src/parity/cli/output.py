"""Where command output goes, in which format."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Any

from rich.console import Console

from parity.report.json_output import to_json


class Format(StrEnum):
    """Output format for informational commands."""

    TEXT = "text"
    JSON = "json"


def console() -> Console:
    """A console for stdout; wide enough to keep tables readable when piped."""
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False)


def emit_json(payload: Any) -> None:
    """Write deterministic JSON to stdout."""
    sys.stdout.write(to_json(payload))
