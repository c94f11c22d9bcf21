"""Finding, reading, validating and resolving rulebooks (inheritance between rounds).

Rulebooks are named by id (packaged under ``rulebook/data``, or beside a user's file) or given as a path.
Every error names the file, and where it can the rule id and the field, plus how to fix it.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from parity.errors import BadInput
from parity.rulebook.model import HistoryEntry, Rulebook
from parity.rulebook.schema import RULEBOOK_ID_PATTERN, Rule, RulebookFile
from parity.rulebook.yaml_safe import read_yaml

_ID = re.compile(RULEBOOK_ID_PATTERN)
_FIX_HINTS = {
    "missing": "add `{field}:`",
    "extra_forbidden": "remove it or check its spelling",
}


def packaged_dir() -> Path:
    """The folder of the rulebooks shipped with parity."""
    return Path(str(resources.files("parity.rulebook") / "data"))


@cache
def aliases() -> dict[str, str]:
    """Short names for the latest rounds, e.g. ``mlperf-training`` → ``mlperf-training-v6.0``."""
    data = read_yaml(packaged_dir() / "index.yaml")
    return dict(data.get("aliases", {}))


def packaged_ids() -> list[str]:
    """Ids of every packaged rulebook, sorted."""
    return sorted(path.stem for path in packaged_dir().glob("*.yaml") if path.stem != "index")


def load_rulebook(name: str | Path) -> Rulebook:
    """Load a rulebook by id, alias or path, with its inheritance resolved.

    Raises:
        BadInput: unknown id, unreadable file, schema error, or inconsistent inheritance.
    """
    path = _locate(str(name), search=None).resolve()
    return _load_cached(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=64)
def _load_cached(path: Path, mtime_ns: int) -> Rulebook:
    """Rulebooks are immutable once loaded; commands that explain many rules load each file once."""
    del mtime_ns  # part of the cache key only
    return _load(path, ())


def _locate(name: str, search: Path | None) -> Path:
    if name.endswith((".yaml", ".yml")) or "/" in name or "\\" in name:
        path = Path(name) if search is None or Path(name).is_absolute() else search / name
        if not path.is_file():
            raise BadInput("rulebook file not found", path)
        return path
    name = aliases().get(name, name)
    if not _ID.match(name):
        raise BadInput(f"{name!r} is not a rulebook id (letters, digits, '-' and '.')")
    for folder in (search, packaged_dir()):
        if folder is not None and (folder / f"{name}.yaml").is_file():
            return folder / f"{name}.yaml"
    known = ", ".join([*packaged_ids(), *aliases()])
    raise BadInput(f"unknown rulebook {name!r}; known: {known}")


def _load(path: Path, chain: tuple[Path, ...]) -> Rulebook:
    if path in chain:
        cycle = " -> ".join(p.stem for p in (*chain, path))
        raise BadInput(f"`extends` forms a cycle: {cycle}", path)
    raw = read_yaml(path)
    if not isinstance(raw, dict):
        raise BadInput(f"expected a mapping at the top level, found {type(raw).__name__}", path)
    try:
        book = RulebookFile.model_validate(raw)
    except ValidationError as exc:
        raise BadInput(_describe(exc, raw), path) from None
    if path.stem != book.id and path.parent == packaged_dir():
        raise BadInput(f"file name does not match id {book.id!r}", path)
    if book.extends is None:
        return _base(book, path)
    try:
        parent_path = _locate(book.extends, search=path.parent)
    except BadInput as exc:
        raise BadInput(f"`extends`: {exc.problem}", exc.path or path) from None
    folders = {path.resolve().parent, packaged_dir().resolve()}
    if parent_path.resolve().parent not in folders:
        raise BadInput(f"`extends` names a file outside the rulebook's folder: {book.extends}", path)
    parent = _load(parent_path.resolve(), (*chain, path))
    return _extend(parent, book, path)


def _base(book: RulebookFile, path: Path) -> Rulebook:
    rules: dict[str, Rule] = {}
    for rule in book.rules:
        if rule.id in rules:
            raise BadInput(f"rule {rule.id!r}: duplicate id", path)
        rules[rule.id] = rule
    history = tuple(HistoryEntry(book.id, "defined", rule_id) for rule_id in rules)
    return Rulebook(
        id=book.id,
        title=book.title,
        suite=book.suite,
        round=book.round,
        description=book.description,
        source=book.source,
        divisions=tuple(book.divisions or ()),
        default=book.default,
        division_defaults=dict(book.division_defaults),
        default_rationale=book.default_rationale or "",
        counterpart=book.counterpart,
        weights_check=book.weights_check or "provenance",
        lineage=(book.id,),
        rules=rules,
        history=history,
        path=path,
    )


def _extend(parent: Rulebook, book: RulebookFile, path: Path) -> Rulebook:
    rules = dict(parent.rules)
    history = list(parent.history)
    for removal in book.removes:
        if removal.id not in rules:
            raise BadInput(f"rule {removal.id!r}: `removes` names a rule {parent.id} does not have", path)
        del rules[removal.id]
        history.append(HistoryEntry(book.id, "removed", removal.id, removal.note))
    for change in book.changes:
        if change.id not in rules:
            raise BadInput(f"rule {change.id!r}: `changes` names a rule {parent.id} does not have", path)
        patch = change.model_dump(exclude={"note"})
        merged: dict[str, Any] = {**rules[change.id].model_dump(exclude_none=True), **patch}
        try:
            rules[change.id] = Rule.model_validate(merged)
        except ValidationError as exc:
            raise BadInput(f"rule {change.id!r} (changed): {_describe(exc, merged)}", path) from None
        history.append(HistoryEntry(book.id, "changed", change.id, change.note))
    for rule in book.adds:
        if rule.id in rules:
            raise BadInput(f"rule {rule.id!r}: duplicate id (already in {parent.id}; use `changes`)", path)
        rules[rule.id] = rule
        history.append(HistoryEntry(book.id, "added", rule.id))
    return Rulebook(
        id=book.id,
        title=book.title,
        suite=book.suite,
        round=book.round or parent.round,
        description=book.description or parent.description,
        source=book.source or parent.source,
        divisions=tuple(book.divisions or parent.divisions),
        default=book.default or parent.default,
        division_defaults={**parent.division_defaults, **book.division_defaults},
        default_rationale=book.default_rationale or parent.default_rationale,
        counterpart=book.counterpart or parent.counterpart,
        weights_check=book.weights_check or parent.weights_check,
        lineage=(*parent.lineage, book.id),
        rules=rules,
        history=tuple(history),
        path=path,
    )


def _describe(exc: ValidationError, raw: dict[str, Any]) -> str:
    """One line for the first schema error: the rule id (not its index) and the field."""
    error = exc.errors()[0]
    loc = list(error["loc"])
    prefix = ""
    if len(loc) >= 2 and loc[0] in ("rules", "adds", "changes", "removes") and isinstance(loc[1], int):
        items = raw.get(loc[0]) or []
        item = items[loc[1]] if loc[1] < len(items) else None
        rule_id = item.get("id") if isinstance(item, dict) else None
        prefix = f"rule {rule_id!r}: " if rule_id else f"{loc[0]}[{loc[1]}]: "
        loc = loc[2:]
    field = ".".join(str(part) for part in loc) or "(whole entry)"
    hint = _FIX_HINTS.get(error["type"], "").format(field=field.rsplit(".", 1)[-1])
    message = error["msg"].removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{prefix}field {field}: {message}" + (f"; {hint}" if hint else "") + more
