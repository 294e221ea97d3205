"""What the USSD menus need from the rest of Afiya, as one small Protocol.

The composition root implements :class:`UssdServices` with the appointment, results and
billing use cases; unit tests use a fake. Methods raise
:class:`~afiya.domain.shared.errors.DomainError` (``NotFound``, ``Conflict``...) when an
operation is refused; the menu then ends with a polite "could not be done".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from afiya.domain.shared.errors import DomainError
from afiya.domain.shared.i18n import N_


class ServiceNotAvailable(DomainError):
    """The information exists nowhere yet (no billing module): the menu says so plainly
    instead of pretending that nothing is owed."""

    code = "ussd_service_not_available"
    default_message = N_("This information is not available on this channel yet.")


@dataclass(frozen=True, slots=True)
class AppointmentSummary:
    """What a patient may see of an appointment on a USSD screen.

    Attributes:
        appointment_id: the appointment's id.
        starts_at: aware start time.
        time_zone: IANA zone of the facility (``Africa/Nouakchott``), for display.
        facility: short facility name shown to the patient.
    """

    appointment_id: str
    starts_at: datetime
    time_zone: str
    facility: str


@dataclass(frozen=True, slots=True)
class SlotOption:
    """A free slot offered when rescheduling."""

    slot_id: str
    starts_at: datetime


@dataclass(frozen=True, slots=True)
class Balance:
    """What the patient still owes."""

    amount: Decimal
    currency: str


class UssdServices(Protocol):
    """The use cases the USSD channel calls. Every method is keyword-only."""

    async def identify_patient(self, *, phone_number: str, secret: str) -> str | None:
        """The id of the patient reachable at ``phone_number`` whose PIN or date of birth
        (``DDMMYYYY``) is ``secret``; ``None`` otherwise, without saying which part was
        wrong. A phone shared by a family is common: the secret picks the person."""
        ...

    async def next_appointment(self, *, patient_id: str) -> AppointmentSummary | None:
        """The patient's next booked appointment, if any."""
        ...

    async def confirm_appointment(self, *, patient_id: str, appointment_id: str) -> None:
        """Record that the patient will come."""
        ...

    async def cancel_appointment(self, *, patient_id: str, appointment_id: str) -> None:
        """Cancel at the patient's request."""
        ...

    async def reschedule_options(
        self, *, patient_id: str, appointment_id: str, limit: int
    ) -> Sequence[SlotOption]:
        """Up to ``limit`` free slots the appointment may move to, soonest first."""
        ...

    async def reschedule_appointment(
        self, *, patient_id: str, appointment_id: str, slot_id: str
    ) -> AppointmentSummary:
        """Move the appointment to ``slot_id``; return it as rebooked."""
        ...

    async def request_callback(
        self, *, phone_number: str, patient_id: str | None, language: str
    ) -> None:
        """Ask the facility's staff to call this number back."""
        ...

    async def results_ready(self, *, patient_id: str) -> bool:
        """Whether results are waiting to be collected. Never their content."""
        ...

    async def bill_balance(self, *, patient_id: str) -> Balance | None:
        """The patient's unpaid balance, ``None`` when nothing is owed.

        Raises:
            ServiceNotAvailable: no billing data can be read (the menu says so).
        """
        ...
