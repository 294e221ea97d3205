"""SQL repository of the agenda: set-up rows, the facility calendar, appointments.

Appointments are written under the database guard of ADR 0106 (triggers of migration
0005): an overlap with another holding row of the practitioner or of a resource is
refused by the database, whichever transaction commits first, and turned here into
:class:`SlotUnavailable`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from afiya.adapters.db.models.agenda import (
    HOLDING,
    AgendaClosureRow,
    AgendaExtraSessionRow,
    AgendaLeaveRow,
    AgendaResourceRow,
    AgendaScheduleRow,
    AppointmentResourceRow,
    AppointmentRow,
    AppointmentTypeRow,
)
from afiya.adapters.db.models.orgunits import OrgUnitRow
from afiya.adapters.db.repositories.agenda_mapping import (
    AgendaSetupWriter,
    appointment_of,
    ids_of,
    owner_of,
    row_values,
    schedule_of,
    type_of,
)
from afiya.adapters.db.repositories.orgunits import scope_clause
from afiya.domain.access.policy import Scope
from afiya.domain.agenda.appointments import (
    AgendaRules,
    Appointment,
)
from afiya.domain.agenda.errors import SlotUnavailable, StaleAppointment
from afiya.domain.agenda.intervals import Interval, local_day_window
from afiya.domain.agenda.model import (
    AppointmentType,
    Booking,
    Closure,
    ExtraSession,
    FacilityCalendar,
    Leave,
    LeaveKind,
    OwnerKind,
    Resource,
    ResourceKind,
    Schedule,
)
from afiya.domain.agenda.reminders import FacilityReminderSettings
from afiya.domain.agenda.slots import facility_zone
from afiya.domain.agenda.use_cases import FacilityInfo


def is_guard_violation(exc: DBAPIError) -> bool:
    """The guard's refusal: SQLSTATE 23P01 on PostgreSQL, the trigger's text on SQLite."""
    original = getattr(exc, "orig", None)
    state = getattr(original, "sqlstate", None) or getattr(original, "pgcode", None)
    if state is None and original is not None:
        state = getattr(getattr(original, "__cause__", None), "sqlstate", None)
    return state == "23P01" or "slot_unavailable" in str(exc)


class SqlAgendaRepository(AgendaSetupWriter):
    """Implements ``CalendarReader``, ``AppointmentRepository`` and ``AgendaStore``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # -- facilities --------------------------------------------------------------

    async def facility(self, facility_id: str) -> FacilityInfo | None:
        """The facility (or any unit) with its path, name and inherited time zone."""
        row = await self._session.get(OrgUnitRow, UUID(facility_id))
        if row is None or row.deleted_at is not None:
            return None
        zone = row.timezone
        if zone is None:
            prefixes = [row.path[: i + 1] for i, c in enumerate(row.path) if c == "/" and i > 0]
            found = (
                await self._session.execute(
                    select(OrgUnitRow.timezone)
                    .where(OrgUnitRow.path.in_(prefixes), OrgUnitRow.timezone.is_not(None))
                    .order_by(OrgUnitRow.level.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()
            zone = found or "UTC"
        return FacilityInfo(
            id=str(row.id),
            path=row.path,
            name=row.short_name or row.name,
            time_zone=zone,
            kind=row.kind,
        )

    async def agenda_rules(self, facility_id: str) -> AgendaRules:
        return AgendaRules()

    async def reminder_settings(self, facility_id: str) -> FacilityReminderSettings:
        info = await self.facility(facility_id)
        return FacilityReminderSettings(time_zone=info.time_zone if info else "UTC")

    async def types(self, facility_id: str) -> list[AppointmentType]:
        rows = (
            await self._session.execute(
                select(AppointmentTypeRow).where(
                    AppointmentTypeRow.facility_id == UUID(facility_id),
                    AppointmentTypeRow.deleted_at.is_(None),
                )
            )
        ).scalars()
        return [type_of(r) for r in rows]

    async def schedules(self, facility_id: str) -> list[Schedule]:
        rows = (
            await self._session.execute(
                select(AgendaScheduleRow).where(
                    AgendaScheduleRow.facility_id == UUID(facility_id),
                    AgendaScheduleRow.deleted_at.is_(None),
                )
            )
        ).scalars()
        return [schedule_of(r) for r in rows]

    async def type_facility(self, type_id: str) -> str | None:
        """The facility offering appointment type ``type_id``."""
        found = await self._session.execute(
            select(AppointmentTypeRow.facility_id).where(AppointmentTypeRow.id == UUID(type_id))
        )
        value = found.scalar_one_or_none()
        return str(value) if value else None

    # -- calendar ----------------------------------------------------------------

    async def load_calendar(
        self,
        *,
        facility_id: str,
        first_day: date,
        last_day: date,
        practitioner_ids: Sequence[str] | None = None,
    ) -> FacilityCalendar:
        info = await self.facility(facility_id)
        zone_name = info.time_zone if info else "UTC"
        window = local_day_window(
            first_day - timedelta(days=1), last_day + timedelta(days=1), facility_zone(zone_name)
        )
        fid = UUID(facility_id)
        s = self._session
        schedules = [
            schedule_of(r)
            for r in (
                await s.execute(
                    select(AgendaScheduleRow).where(
                        AgendaScheduleRow.facility_id == fid,
                        AgendaScheduleRow.deleted_at.is_(None),
                        AgendaScheduleRow.valid_from <= last_day + timedelta(days=1),
                        or_(
                            AgendaScheduleRow.valid_until.is_(None),
                            AgendaScheduleRow.valid_until >= first_day - timedelta(days=1),
                        ),
                    )
                )
            ).scalars()
        ]
        extras = [
            ExtraSession(
                id=str(r.id),
                owner=owner_of(r.owner_kind, r.owner_id),
                facility_id=facility_id,
                service_id=str(r.service_id),
                day=r.day,
                start=r.start,
                end=r.end,
                appointment_type_ids=ids_of(r.appointment_type_ids),
            )
            for r in (
                await s.execute(
                    select(AgendaExtraSessionRow).where(
                        AgendaExtraSessionRow.facility_id == fid,
                        AgendaExtraSessionRow.deleted_at.is_(None),
                        AgendaExtraSessionRow.day.between(
                            first_day - timedelta(days=1), last_day + timedelta(days=1)
                        ),
                    )
                )
            ).scalars()
        ]
        if practitioner_ids is not None:
            wanted = set(practitioner_ids)
            schedules = [
                x for x in schedules if x.owner.kind is OwnerKind.RESOURCE or x.owner.id in wanted
            ]
            extras = [
                x for x in extras if x.owner.kind is OwnerKind.RESOURCE or x.owner.id in wanted
            ]
        closures = [
            Closure(
                id=str(r.id),
                facility_id=facility_id,
                day=r.day,
                reason=r.reason,
                owner=owner_of(r.owner_kind, r.owner_id) if r.owner_kind else None,
                start=r.start,
                end=r.end,
            )
            for r in (
                await s.execute(
                    select(AgendaClosureRow).where(
                        AgendaClosureRow.facility_id == fid,
                        AgendaClosureRow.deleted_at.is_(None),
                        AgendaClosureRow.day.between(
                            first_day - timedelta(days=1), last_day + timedelta(days=1)
                        ),
                    )
                )
            ).scalars()
        ]
        resources = [
            Resource(str(r.id), facility_id, ResourceKind(r.kind), r.category, r.name, r.active)
            for r in (
                await s.execute(
                    select(AgendaResourceRow).where(
                        AgendaResourceRow.facility_id == fid,
                        AgendaResourceRow.deleted_at.is_(None),
                    )
                )
            ).scalars()
        ]
        types = await self.types(facility_id)
        owners = [x.owner for x in schedules] + [x.owner for x in extras]
        practitioners = {o.id for o in owners if o.kind is OwnerKind.PRACTITIONER}
        owner_ids = [UUID(p) for p in practitioners] + [UUID(r.id) for r in resources]
        leaves = [
            Leave(
                str(r.id),
                owner_of(r.owner_kind, r.owner_id),
                r.starts_at,
                r.ends_at,
                LeaveKind(r.kind),
            )
            for r in (
                await s.execute(
                    select(AgendaLeaveRow).where(
                        AgendaLeaveRow.owner_id.in_(owner_ids),
                        AgendaLeaveRow.deleted_at.is_(None),
                        AgendaLeaveRow.starts_at < window.end,
                        window.start < AgendaLeaveRow.ends_at,
                    )
                )
            ).scalars()
        ]
        bookings = await self._bookings(
            [UUID(p) for p in practitioners], [UUID(r.id) for r in resources], window
        )
        return FacilityCalendar(
            facility_id=facility_id,
            time_zone=zone_name,
            schedules=tuple(schedules),
            extra_sessions=tuple(extras),
            closures=tuple(closures),
            leaves=tuple(leaves),
            resources=tuple(resources),
            appointment_types=tuple(types),
            bookings=tuple(bookings),
        )

    async def _bookings(
        self, practitioners: list[UUID], resources: list[UUID], window: Interval
    ) -> list[Booking]:
        """Holding appointments of these practitioners or resources, at any facility."""
        a, ar = AppointmentRow, AppointmentResourceRow
        by_resource = select(ar.appointment_id).where(
            ar.resource_id.in_(resources),
            ar.status.in_(HOLDING),
            ar.occupancy_start < window.end,
            window.start < ar.occupancy_end,
        )
        rows = (
            await self._session.execute(
                select(
                    a.id, a.practitioner_id, a.resource_ids, a.occupancy_start, a.occupancy_end
                ).where(
                    a.status.in_(HOLDING),
                    a.deleted_at.is_(None),
                    or_(
                        and_(
                            a.practitioner_id.in_(practitioners),
                            a.occupancy_start < window.end,
                            window.start < a.occupancy_end,
                        ),
                        a.id.in_(by_resource),
                    ),
                )
            )
        ).all()
        return [
            Booking(
                str(r.id),
                str(r.practitioner_id),
                tuple(r.resource_ids),
                Interval(r.occupancy_start, r.occupancy_end),
            )
            for r in rows
        ]

    # -- appointments ------------------------------------------------------------

    async def _row(self, appointment_id: str) -> AppointmentRow | None:
        try:
            key = UUID(appointment_id)
        except ValueError:
            return None
        row = await self._session.get(AppointmentRow, key)
        return row if row is not None and row.deleted_at is None else None

    async def get(self, appointment_id: str) -> Appointment | None:
        row = await self._row(appointment_id)
        return appointment_of(row) if row else None

    async def unit_path(self, appointment_id: str) -> str | None:
        row = await self._row(appointment_id)
        return row.unit_path if row else None

    async def add(self, appointment: Appointment, *, unit_path: str = "") -> None:
        """Insert under the database guard; raises :class:`SlotUnavailable` on overlap."""
        a = appointment
        row = AppointmentRow(
            id=UUID(a.id),
            facility_id=UUID(a.facility_id),
            unit_path=unit_path,
            service_id=UUID(a.service_id),
            patient_id=UUID(a.patient_id),
            appointment_type_id=UUID(a.appointment_type_id),
            channel=a.channel.value,
            booked_at=a.booked_at,
            booked_by_kind=a.booked_by.kind.value,
            booked_by_id=a.booked_by.id,
            **row_values(a),
        )
        self._session.add(row)
        await self._guarded_flush()  # the practitioner's guard, then the resources'
        for resource_id in sorted(a.resource_ids):
            self._session.add(
                AppointmentResourceRow(
                    appointment_id=row.id,
                    resource_id=UUID(resource_id),
                    occupancy_start=row.occupancy_start,
                    occupancy_end=row.occupancy_end,
                    status=row.status,
                )
            )
        await self._guarded_flush()

    async def _guarded_flush(self) -> None:
        try:
            await self._session.flush()
        except DBAPIError as exc:
            if is_guard_violation(exc):
                raise SlotUnavailable(["taken"]) from exc
            raise

    async def save(self, appointment: Appointment, *, expected_version: int | None = None) -> None:
        row = await self._row(appointment.id)
        if row is None or (expected_version is not None and row.version != expected_version):
            raise StaleAppointment()
        for key, value in row_values(appointment).items():
            setattr(row, key, value)
        await self._session.execute(
            delete(AppointmentResourceRow).where(AppointmentResourceRow.appointment_id == row.id)
        )
        for resource_id in sorted(appointment.resource_ids):
            self._session.add(
                AppointmentResourceRow(
                    appointment_id=row.id,
                    resource_id=UUID(resource_id),
                    occupancy_start=row.occupancy_start,
                    occupancy_end=row.occupancy_end,
                    status=row.status,
                )
            )
        await self._guarded_flush()

    async def version(self, appointment_id: str) -> int | None:
        row = await self._row(appointment_id)
        return row.version if row else None

    async def for_patient(
        self, patient_id: str, *, since: datetime, until: datetime
    ) -> list[Appointment]:
        rows = (
            await self._session.execute(
                select(AppointmentRow)
                .where(
                    AppointmentRow.patient_id == UUID(patient_id),
                    AppointmentRow.deleted_at.is_(None),
                    AppointmentRow.starts_at >= since,
                    AppointmentRow.starts_at < until,
                )
                .order_by(AppointmentRow.starts_at)
            )
        ).scalars()
        return [appointment_of(r) for r in rows]

    async def for_day(self, facility_id: str, day: date) -> list[Appointment]:
        info = await self.facility(facility_id)
        window = local_day_window(day, day, facility_zone(info.time_zone if info else "UTC"))
        rows = (
            await self._session.execute(
                select(AppointmentRow)
                .where(
                    AppointmentRow.facility_id == UUID(facility_id),
                    AppointmentRow.deleted_at.is_(None),
                    AppointmentRow.starts_at >= window.start,
                    AppointmentRow.starts_at < window.end,
                )
                .order_by(AppointmentRow.starts_at, AppointmentRow.id)
            )
        ).scalars()
        return [appointment_of(r) for r in rows]

    async def search(
        self,
        scope: Scope,
        *,
        facility_id: str | None,
        patient_id: str | None,
        practitioner_id: str | None,
        status: str | None,
        since: datetime | None,
        until: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> list[Appointment]:
        """Appointments in the scope, by start then id (keyset ``after``)."""
        a = AppointmentRow
        stmt = select(a).where(a.deleted_at.is_(None), scope_clause(a.unit_path, scope))  # type: ignore[arg-type]
        for column, value in (
            (a.facility_id, facility_id),
            (a.patient_id, patient_id),
            (a.practitioner_id, practitioner_id),
        ):
            if value is not None:
                stmt = stmt.where(column == UUID(value))
        if status is not None:
            stmt = stmt.where(a.status == status)
        if since is not None:
            stmt = stmt.where(a.starts_at >= since)
        if until is not None:
            stmt = stmt.where(a.starts_at < until)
        if after is not None:
            at, last_id = after
            stmt = stmt.where(or_(a.starts_at > at, and_(a.starts_at == at, a.id > UUID(last_id))))
        stmt = stmt.order_by(a.starts_at, a.id).limit(limit)
        return [appointment_of(r) for r in (await self._session.execute(stmt)).scalars()]


def utc(value: datetime) -> datetime:
    return value.astimezone(UTC)
