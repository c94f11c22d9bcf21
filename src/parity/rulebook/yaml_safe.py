"""Reading untrusted YAML: safe_load semantics, bounded size, duplicate keys rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from parity.errors import BadInput
from parity.untrusted import MAX_JSON_DEPTH, depth, regular_file, values_within

MAX_YAML_BYTES = 4 * 1024 * 1024
#: the most values a rulebook may expand to (the packaged ones have a few thousand; an alias bomb, billions)
MAX_YAML_VALUES = 200_000


_SAFE_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present: 10x faster


class _StrictSafeLoader(_SAFE_BASE):  # type: ignore[misc, valid-type]
    """SafeLoader that refuses duplicate mapping keys (YAML silently keeps the last one)."""


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return yaml.constructor.SafeConstructor.construct_mapping(loader, node, deep=deep)


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def read_yaml(path: Path) -> Any:
    """Parse one YAML document from ``path`` without constructing any Python object but plain data.

    Raises:
        BadInput: missing, too large, not UTF-8, not YAML, a tag that would construct an object, or a
            duplicate key; the message names the line.
    """
    size = regular_file(path, "rulebook").stat().st_size
    if size > MAX_YAML_BYTES:
        raise BadInput(f"rulebook is {size} bytes, over the {MAX_YAML_BYTES} byte limit", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BadInput("rulebook is not UTF-8 text", path) from None
    except OSError as exc:
        raise BadInput(f"cannot read rulebook ({exc.strerror})", path) from None
    try:
        data = yaml.load(text, Loader=_StrictSafeLoader)
    except (ValueError, RecursionError) as exc:  # an integer of 4,300+ digits; nesting the parser refuses
        raise BadInput(f"invalid YAML value: {str(exc).splitlines()[0][:120]}", path) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        if "could not determine a constructor" in str(exc):
            problem = f"YAML tag not allowed ({problem.split('tag')[-1].strip()}); rulebooks are plain data"
        raise BadInput(f"{where}invalid YAML: {problem}", path) from None
    if depth(data) > MAX_JSON_DEPTH:
        raise BadInput(f"rulebook is nested deeper than {MAX_JSON_DEPTH} levels", path)
    if not values_within(data, MAX_YAML_VALUES):
        raise BadInput(f"rulebook expands to more than {MAX_YAML_VALUES} values (aliases repeated?)", path)
    return data
