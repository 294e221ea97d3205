"""DHIS2 metadata query semantics: ``fields``, ``filter``, ``order`` and paging."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

FieldTree = dict[str, "FieldTree | None"]

_PRESETS = {
    ":identifiable": ("id", "name", "code", "created", "lastUpdated"),
    ":nameable": ("id", "name", "shortName", "code", "description", "created", "lastUpdated"),
}
ALL = "*"


class QueryError(ValueError):
    """A malformed ``fields``/``filter``/``order`` expression (DHIS2 answers 400)."""


def parse_fields(expression: str) -> FieldTree:
    """``id,name,parent[id,name]`` to a tree; ``*``, ``:all`` and ``:owner`` mean all."""
    tree: FieldTree = {}
    for item in _split_top(expression):
        item = item.strip()
        if not item:
            continue
        if item in ("*", ":all", ":owner", ":simple", ":persisted"):
            tree[ALL] = None
        elif item in _PRESETS:
            for name in _PRESETS[item]:
                tree.setdefault(name, None)
        elif item.startswith("!"):
            tree["!" + item[1:]] = None
        elif item[-1] in "])":
            bracket = min(i for i in (item.find("["), item.find("(")) if i >= 0)
            tree[item[:bracket]] = parse_fields(item[bracket + 1 : -1])
        else:
            tree[item] = None
    return tree


def _split_top(expression: str) -> list[str]:
    parts, depth, current = [], 0, []
    for char in expression:
        if char in "[(":
            depth += 1
        elif char in "])":
            depth -= 1
            if depth < 0:
                raise QueryError(f"unbalanced brackets in fields: {expression}")
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise QueryError(f"unbalanced brackets in fields: {expression}")
    parts.append("".join(current))
    return parts


Resolver = Callable[[str], "dict[str, Any] | None"]


def select(obj: Any, tree: FieldTree | None, resolve: Resolver | None = None) -> Any:
    """Keep the requested fields of ``obj`` (recursively into objects and lists).

    Nested references (``{"id": ...}``) are expanded through ``resolve`` when more than
    their id is asked for, as DHIS2 does for ``parent[id,name]``.
    """
    if tree is None:
        return obj
    if isinstance(obj, list):
        return [select(item, tree, resolve) for item in obj]
    if not isinstance(obj, dict):
        return obj
    if resolve is not None and "id" in obj and any(n not in obj for n in tree if n[0] != "!"):
        found = resolve(str(obj["id"]))
        if found is not None:
            obj = {**found, **obj}
    names = list(obj) if ALL in tree else [n for n in tree if not n.startswith("!")]
    if ALL in tree and "displayName" not in obj and "name" in obj:
        names.append("displayName")
    out: dict[str, Any] = {}
    for name in names:
        if name == ALL or f"!{name}" in tree:
            continue
        value = obj.get(name)
        if value is None and name == "displayName":
            value = obj.get("name")
        if value is None and name == "displayShortName":
            value = obj.get("shortName")
        if value is None:
            continue
        out[name] = select(value, tree.get(name), resolve)
    return out


def _parse_time(text: str) -> datetime | None:
    cleaned = text.strip().replace("Z", "").split("+")[0]
    for pattern in ("%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(cleaned, pattern)
        except ValueError:
            continue
    return None


def _values_at(obj: Any, path: list[str]) -> list[Any]:
    if not path:
        return [obj]
    if isinstance(obj, list):
        return [v for item in obj for v in _values_at(item, path)]
    if not isinstance(obj, dict):
        return []
    return _values_at(obj.get(path[0]), path[1:]) if path[0] in obj else [None]


def _comparable(left: Any, right: str) -> tuple[Any, Any]:
    if isinstance(left, bool):
        return left, right.lower() == "true"
    if isinstance(left, int | float):
        try:
            return left, float(right)
        except ValueError:
            return str(left), right
    if isinstance(left, str):
        left_time, right_time = _parse_time(left), _parse_time(right)
        if left_time is not None and right_time is not None:
            return left_time, right_time
    return str(left), right


_OPERATORS: dict[str, Callable[[Any, str], bool]] = {}


def _op(name: str) -> Callable[[Callable[[Any, str], bool]], Callable[[Any, str], bool]]:
    def register(fn: Callable[[Any, str], bool]) -> Callable[[Any, str], bool]:
        _OPERATORS[name] = fn
        return fn

    return register


def _cmp(left: Any, right: str, test: Callable[[Any, Any], bool]) -> bool:
    if left is None:
        return False
    a, b = _comparable(left, right)
    try:
        return test(a, b)
    except TypeError:
        return False


_op("eq")(lambda v, r: _cmp(v, r, lambda a, b: a == b))
_op("!eq")(lambda v, r: not _cmp(v, r, lambda a, b: a == b))
_op("ne")(lambda v, r: not _cmp(v, r, lambda a, b: a == b))
_op("neq")(lambda v, r: not _cmp(v, r, lambda a, b: a == b))
_op("gt")(lambda v, r: _cmp(v, r, lambda a, b: a > b))
_op("ge")(lambda v, r: _cmp(v, r, lambda a, b: a >= b))
_op("lt")(lambda v, r: _cmp(v, r, lambda a, b: a < b))
_op("le")(lambda v, r: _cmp(v, r, lambda a, b: a <= b))
_op("like")(lambda v, r: v is not None and r in str(v))
_op("!like")(lambda v, r: v is None or r not in str(v))
_op("ilike")(lambda v, r: v is not None and r.lower() in str(v).lower())
_op("!ilike")(lambda v, r: v is None or r.lower() not in str(v).lower())
_op("null")(lambda v, r: v is None)
_op("!null")(lambda v, r: v is not None)
_op("in")(lambda v, r: v is not None and str(v) in r.strip("[]").split(","))
_op("!in")(lambda v, r: v is None or str(v) not in r.strip("[]").split(","))


def make_filter(expression: str) -> Callable[[dict[str, Any]], bool]:
    """``property:operator:value`` (the value may hold colons, as timestamps do)."""
    parts = expression.split(":", 2)
    if len(parts) < 2 or parts[1] not in _OPERATORS:
        raise QueryError(f"Unable to parse filter `{expression}`")
    path, operator = parts[0].split("."), _OPERATORS[parts[1]]
    operand = parts[2] if len(parts) == 3 else ""
    return lambda obj: any(operator(v, operand) for v in _values_at(obj, path))


def order_objects(objects: list[dict[str, Any]], expression: str | None) -> list[dict[str, Any]]:
    """``name:asc,id:desc`` ordering (missing values sort first)."""
    result = list(objects)
    for item in reversed([p for p in (expression or "").split(",") if p]):
        name, _, direction = item.partition(":")
        result.sort(
            key=lambda o, n=name: (o.get(n) is not None, str(o.get(n) or "")),
            reverse=direction.lower() == "desc",
        )
    return result


def page(
    objects: list[Any], page_number: int, page_size: int, base_url: str
) -> tuple[list[Any], dict[str, Any]]:
    """Slice one page and build DHIS2's ``pager`` object."""
    total = len(objects)
    page_count = max(1, math.ceil(total / page_size))
    start = (page_number - 1) * page_size
    pager: dict[str, Any] = {
        "page": page_number,
        "total": total,
        "pageSize": page_size,
        "pageCount": page_count,
    }
    if page_number < page_count:
        pager["nextPage"] = f"{base_url}?page={page_number + 1}&pageSize={page_size}"
    if page_number > 1:
        pager["prevPage"] = f"{base_url}?page={page_number - 1}&pageSize={page_size}"
    return objects[start : start + page_size], pager
