"""Errors of the agenda, each with a stable code the API maps to an HTTP status."""

from __future__ import annotations

from collections.abc import Sequence

from afiya.domain.shared.errors import Conflict, NotFound, PermissionDenied
from afiya.domain.shared.i18n import N_


class UnknownAppointmentType(NotFound):
    code = "unknown_appointment_type"
    default_message = N_("This type of appointment is not offered here.")

    def __init__(self, type_id: str) -> None:
        super().__init__(details={"appointment_type_id": type_id})


class SlotUnavailable(Conflict):
    """The requested start cannot be booked; ``details["problems"]`` says why.

    Also raised by the repository when the database guard refuses a booking that a
    concurrent transaction made first: the caller offers other slots.
    """

    code = "slot_unavailable"
    default_message = N_("This time is no longer available. Please choose another one.")

    def __init__(self, problems: Sequence[str], *, conflicting_ids: Sequence[str] = ()) -> None:
        super().__init__(
            details={
                "problems": list(problems),
                "conflicting_appointment_ids": list(conflicting_ids),
            }
        )


class TransitionNotAllowed(Conflict):
    """The appointment's status does not allow this step (cancel a completed visit)."""

    code = "appointment_transition_not_allowed"
    default_message = N_("This step is not possible in the appointment's current status.")

    def __init__(self, status: str, action: str) -> None:
        super().__init__(details={"status": status, "action": action})


class TooEarlyOrTooLate(Conflict):
    """The step is allowed in this status but not at this time (no-show before start)."""

    code = "appointment_step_out_of_time"
    default_message = N_("This cannot be done at this time for this appointment.")


class ActorNotAllowed(PermissionDenied):
    """This kind of user may not take this step (a patient marking a no-show)."""

    code = "appointment_actor_not_allowed"
    default_message = N_("You are not allowed to do this for this appointment.")


class StaleAppointment(Conflict):
    """Someone changed the appointment since it was read (optimistic version check)."""

    code = "appointment_changed"
    default_message = N_("The appointment was changed by someone else. Reload it and retry.")
