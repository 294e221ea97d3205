"""Dependency ordering (Kahn's algorithm) with cycles reported by name."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import TypeVar

from afiya.domain.pbf.errors import DependencyCycle

K = TypeVar("K", bound=Hashable)


def toposort(
    nodes: Sequence[K],
    dependencies: Mapping[K, Iterable[K]],
    *,
    label: Callable[[K], str] = str,
) -> list[K]:
    """Order ``nodes`` so that each comes after everything it depends on.

    Ties keep the order of ``nodes``, so the result is deterministic. Dependencies on
    names outside ``nodes`` are ignored (they are inputs, already known).

    Raises:
        DependencyCycle: listing one cycle in dependency order, first node repeated last.
    """
    known = set(nodes)
    waiting: dict[K, int] = {}
    dependents: dict[K, list[K]] = {node: [] for node in nodes}
    for node in nodes:
        deps = {d for d in dependencies.get(node, ()) if d in known}
        waiting[node] = len(deps)
        for dep in deps:
            dependents[dep].append(node)
    ready = deque(node for node in nodes if waiting[node] == 0)
    order: list[K] = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for dependent in dependents[node]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    if len(order) < len(nodes):
        blocked = [node for node in nodes if waiting[node] > 0]
        raise DependencyCycle([label(node) for node in _find_cycle(blocked, dependencies)])
    return order


def _find_cycle(blocked: Sequence[K], dependencies: Mapping[K, Iterable[K]]) -> list[K]:
    """A cycle among ``blocked`` nodes (each has a blocked dependency, so one exists)."""
    inside = set(blocked)
    # Walk from any blocked node along blocked dependencies until a node repeats.
    position: dict[K, int] = {}
    path: list[K] = []
    node = blocked[0]
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = next(d for d in dependencies.get(node, ()) if d in inside)
    cycle = path[position[node] :]
    # Report in "a depends on b depends on c" order, starting with the earliest declared.
    order = {n: i for i, n in enumerate(blocked)}
    start = min(range(len(cycle)), key=lambda i: order[cycle[i]])
    cycle = cycle[start:] + cycle[:start]
    return [*cycle, cycle[0]]
