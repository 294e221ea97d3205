"""Reminder plans through the messaging planner, and the agenda's French and Arabic catalogs."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from afiya.domain.agenda.appointments import AppointmentStatus
from afiya.domain.agenda.reminders import FacilityReminderSettings, plan_appointment_reminders
from afiya.domain.messaging.reminders import Adjustment, ReminderStatus, SkipReason
from afiya.domain.shared.errors import ValidationFailed
from tests.unit.agenda.factories import MONDAY, appointment, utc

ROOT = Path(__file__).resolve().parents[3]
SETTINGS = FacilityReminderSettings(time_zone="Africa/Nouakchott", channels=("sms", "email"))
START = utc(MONDAY, 7, 30)


class TestReminderPlan:
    def test_each_channel_is_planned_with_its_own_consent(self) -> None:
        plan = plan_appointment_reminders(
            appointment(START), SETTINGS, consents={"sms": True}, now=START - timedelta(days=5)
        )
        by_channel = {(r.channel, r.offset): r for r in plan}
        assert len(plan) == 4
        assert by_channel["sms", timedelta(hours=48)].send_at == START - timedelta(hours=48)
        # 05:30 is quiet in Nouakchott: moved to the evening before (messaging's rule).
        two_hours = by_channel["sms", timedelta(hours=2)]
        assert two_hours.adjustment is Adjustment.ADVANCED
        assert two_hours.send_at == utc(MONDAY - timedelta(days=1), 20, 30)
        assert {r.skip_reason for r in plan if r.channel == "email"} == {SkipReason.NO_CONSENT}
        assert all(r.idempotency_key.startswith("reminder:appt-1:") for r in plan)

    @pytest.mark.parametrize(
        "status",
        [AppointmentStatus.CANCELLED, AppointmentStatus.RESCHEDULED, AppointmentStatus.ARRIVED],
    )
    def test_no_reminder_for_appointments_that_no_longer_expect_the_patient(
        self, status: AppointmentStatus
    ) -> None:
        appt = appointment(START, status=status)
        assert (
            plan_appointment_reminders(
                appt, SETTINGS, consents={"sms": True}, now=START - timedelta(days=5)
            )
            == []
        )

    def test_reminders_switched_off_or_confirmed_appointment(self) -> None:
        off = FacilityReminderSettings(time_zone="Africa/Nouakchott", enabled=False)
        assert (
            plan_appointment_reminders(appointment(START), off, consents={"sms": True}, now=START)
            == []
        )
        confirmed = appointment(START, status=AppointmentStatus.CONFIRMED)
        plan = plan_appointment_reminders(
            confirmed, SETTINGS, consents={"sms": True}, now=START - timedelta(days=5)
        )
        assert {r.status for r in plan if r.channel == "sms"} == {ReminderStatus.SCHEDULED}

    def test_an_unknown_time_zone_is_a_configuration_error(self) -> None:
        bad = FacilityReminderSettings(time_zone="Africa/Atlantis")
        with pytest.raises(ValidationFailed):
            plan_appointment_reminders(appointment(START), bad, consents={}, now=START)


PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _msgids() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "afiya" / "domain" / "agenda").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "N_":
                literal = node.args[0]
                assert isinstance(literal, ast.Constant) and isinstance(literal.value, str)
                found.add(literal.value)
    return found


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_catalog_translates_every_agenda_message(language: str) -> None:
    path = ROOT / "afiya" / "locale" / language / "LC_MESSAGES" / "agenda.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    assert str(catalog.locale) == language and catalog.plural_forms
    ids = _msgids()
    assert len(ids) > 20
    translated = {m.id: m.string for m in catalog if isinstance(m.id, str) and m.id}
    assert set(translated) == ids
    for msgid, text in translated.items():
        assert isinstance(text, str) and text and text != msgid, msgid
        assert sorted(PLACEHOLDER.findall(text)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        if language == "ar":
            assert re.search("[\u0600-\u06ff]", text), msgid
