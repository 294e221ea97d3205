"""Row sets (facilities, zones, input units) and the index maps between them."""

from __future__ import annotations

from collections.abc import Sequence

from afiya.domain.pbf.errors import PlanningError
from afiya.domain.pbf.model import OrgUnit
from afiya.domain.shared.i18n import N_, Message

UNITS = "units"


class RowIndex:
    """Builds named row sets and interned maps from one row set into another.

    A map lists, for each row of its source set, the index of the matching row in the
    target set, or ``-1`` when there is none (a facility outside a package, a facility
    without an ancestor at the level asked).
    """

    def __init__(self, facilities: Sequence[OrgUnit]) -> None:
        self.facilities = {ou.id: ou for ou in facilities}
        units: dict[str, None] = dict.fromkeys(ou.id for ou in facilities)
        for ou in facilities:
            units.update(dict.fromkeys(ou.path))
        self.sets: dict[str, tuple[str, ...]] = {UNITS: tuple(units)}
        self.maps: dict[str, tuple[int, ...]] = {}
        self._positions: dict[str, dict[str, int]] = {}

    def add(self, name: str, ids: Sequence[str]) -> str:
        self.sets[name] = tuple(ids)
        return name

    def position(self, set_name: str, row_id: str) -> int:
        positions = self._positions.get(set_name)
        if positions is None:
            positions = {row_id: i for i, row_id in enumerate(self.sets[set_name])}
            self._positions[set_name] = positions
        return positions.get(row_id, -1)

    def _intern(self, key: str, build: Sequence[int]) -> str:
        if key not in self.maps:
            self.maps[key] = tuple(build)
        return key

    def identity(self, name: str) -> str:
        key = f"{name}>{name}"
        if key not in self.maps:
            self.maps[key] = tuple(range(len(self.sets[name])))
        return key

    def between(self, source: str, target: str) -> str:
        """Each row of ``source`` to the row with the same id in ``target``."""
        if source == target:
            return self.identity(source)
        key = f"{source}>{target}"
        if key not in self.maps:
            self.maps[key] = tuple(self.position(target, rid) for rid in self.sets[source])
        return key

    def to_ancestor(self, source: str, target: str, level: int | None) -> str:
        """Each facility of ``source`` to its ancestor at ``level`` (itself if ``None``)."""
        key = f"{source}>{target}@{level}"
        if key not in self.maps:
            out = []
            for rid in self.sets[source]:
                unit = self.facilities[rid]
                ancestor = unit.id if level is None else unit.ancestor(level)
                out.append(-1 if ancestor is None else self.position(target, ancestor))
            self.maps[key] = tuple(out)
        return key

    def zones(self, name: str, facilities: str, level: int, owner: str) -> str:
        """Add the set of zones (ancestors at ``level``) of ``facilities``, in first-seen order.

        Raises:
            PlanningError: when a facility has no ancestor at ``level``.
        """
        ids: dict[str, None] = {}
        for rid in self.sets[facilities]:
            ancestor = self.facilities[rid].ancestor(level)
            if ancestor is None:
                raise PlanningError(
                    Message(
                        N_("Facility {org_unit} has no ancestor at level {level} ({package})."),
                        {"org_unit": rid, "level": level, "package": owner},
                    )
                )
            ids[ancestor] = None
        return self.add(name, tuple(ids))

    def members(self, zones: str, facilities: str, level: int) -> list[str]:
        """Maps ``zones -> facilities``: the i-th map gives each zone its i-th facility."""
        by_zone: dict[str, list[int]] = {zone: [] for zone in self.sets[zones]}
        for i, rid in enumerate(self.sets[facilities]):
            ancestor = self.facilities[rid].ancestor(level)
            if ancestor is not None:
                by_zone[ancestor].append(i)
        width = max((len(m) for m in by_zone.values()), default=0)
        return [
            self._intern(
                f"{zones}>{facilities}#{i}",
                [m[i] if i < len(m) else -1 for m in by_zone.values()],
            )
            for i in range(width)
        ]
