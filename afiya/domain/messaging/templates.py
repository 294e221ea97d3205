"""SMS templates per purpose and language, validated, rendered without any locale library.

A template is text with named variables (``{patient_name}``, ``{date}``, ``{time}``,
``{facility}``, ``{facility_phone}``). Each purpose allows a fixed set: a facility that
customises the results-ready text cannot slip in ``{date}`` or, worse, a format field
reaching into Python objects (``{x.__class__}``); those are rejected when the template
is created. Dates and times are formatted through the
:class:`~afiya.domain.messaging.ports.DateTimeFormatter` port in the facility's zone.

Texts never carry clinical content: a reminder says when and where, not which clinic
(an SMS is read by whoever holds the phone, often shared in a family).
"""

from __future__ import annotations

import string
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from typing import Final

from afiya.domain.messaging.model import Language
from afiya.domain.messaging.ports import DateTimeFormatter
from afiya.domain.messaging.sms_encoding import SmsEncodingInfo, analyze, fold_to_gsm7
from afiya.domain.shared.errors import FieldError, NotFound, ValidationFailed
from afiya.domain.shared.i18n import N_, Message


class TemplateKey(StrEnum):
    """What a message is for."""

    APPOINTMENT_REMINDER = "appointment_reminder"
    APPOINTMENT_DETAILS = "appointment_details"
    NO_UPCOMING_APPOINTMENT = "no_upcoming_appointment"
    APPOINTMENT_CONFIRMED = "appointment_confirmed"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    RESULTS_READY = "results_ready"
    OPT_OUT_CONFIRMATION = "opt_out_confirmation"
    OPT_IN_CONFIRMATION = "opt_in_confirmation"
    HELP = "help"


class VariableKind(StrEnum):
    TEXT = "text"
    DATE = "date"
    TIME = "time"


VARIABLES: Final[dict[str, VariableKind]] = {
    "patient_name": VariableKind.TEXT,
    "facility": VariableKind.TEXT,
    "facility_phone": VariableKind.TEXT,
    "date": VariableKind.DATE,
    "time": VariableKind.TIME,
}

_APPOINTMENT_VARS = frozenset({"patient_name", "date", "time", "facility", "facility_phone"})
_CONTACT_VARS = frozenset({"facility", "facility_phone"})

ALLOWED_VARIABLES: Final[dict[TemplateKey, frozenset[str]]] = {
    TemplateKey.APPOINTMENT_REMINDER: _APPOINTMENT_VARS,
    TemplateKey.APPOINTMENT_DETAILS: _APPOINTMENT_VARS,
    TemplateKey.NO_UPCOMING_APPOINTMENT: _CONTACT_VARS | {"patient_name"},
    TemplateKey.APPOINTMENT_CONFIRMED: _APPOINTMENT_VARS,
    TemplateKey.APPOINTMENT_CANCELLED: _APPOINTMENT_VARS,
    TemplateKey.RESULTS_READY: _CONTACT_VARS | {"patient_name"},
    TemplateKey.OPT_OUT_CONFIRMATION: _CONTACT_VARS,
    TemplateKey.OPT_IN_CONFIRMATION: _CONTACT_VARS,
    TemplateKey.HELP: _CONTACT_VARS,
}

MAX_TEMPLATE_LENGTH: Final = 1000
_FORMATTER = string.Formatter()


def template_variables(body: str) -> list[str]:
    """Variable names used in ``body``, in order; raises ``ValueError`` if malformed."""
    return [name for _, name, _, _ in _FORMATTER.parse(body) if name is not None]


def _check(key: TemplateKey, body: str) -> list[FieldError]:
    if not body.strip():
        return [FieldError("body", Message(N_("The template text is empty.")), code="empty")]
    if len(body) > MAX_TEMPLATE_LENGTH:
        return [
            FieldError(
                "body",
                Message(
                    N_("The template is longer than {limit} characters."),
                    {"limit": MAX_TEMPLATE_LENGTH},
                ),
                code="too_long",
            )
        ]
    try:
        parsed = list(_FORMATTER.parse(body))
    except ValueError:
        return [
            FieldError(
                "body",
                Message(N_("Braces are unbalanced; write {{ and }} for literal braces.")),
                code="malformed",
            )
        ]
    errors: list[FieldError] = []
    allowed = ALLOWED_VARIABLES[key]
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            errors.append(
                FieldError(
                    "body",
                    Message(
                        N_("Only plain variables such as {{patient_name}} are allowed: {field}."),
                        {"field": "{" + name + "}"},
                    ),
                    code="bad_field",
                )
            )
        elif name not in allowed:
            errors.append(
                FieldError(
                    "body",
                    Message(
                        N_("Unknown variable {name}; allowed: {allowed}."),
                        {"name": name, "allowed": ", ".join(sorted(allowed))},
                    ),
                    code="unknown_variable",
                )
            )
    return errors


@dataclass(frozen=True, slots=True)
class SmsTemplate:
    """A validated template; constructing an invalid one raises ``ValidationFailed``."""

    key: TemplateKey
    language: Language
    body: str

    def __post_init__(self) -> None:
        errors = _check(self.key, self.body)
        if errors:
            raise ValidationFailed(errors)

    @property
    def variables(self) -> frozenset[str]:
        return frozenset(template_variables(self.body))


@dataclass(frozen=True, slots=True)
class RenderedSms:
    """Final text and how it will travel."""

    key: TemplateKey
    language: Language
    text: str
    encoding: SmsEncodingInfo


def _format_value(
    name: str,
    value: object,
    *,
    language: Language,
    formatter: DateTimeFormatter,
    zone: tzinfo,
) -> str | FieldError:
    kind = VARIABLES[name]
    if kind is VariableKind.TEXT:
        if not isinstance(value, str) or not value.strip():
            return FieldError(name, Message(N_("{name} must be a non-empty text."), {"name": name}))
        return " ".join(value.split())  # a newline in a name must not break the layout
    if not isinstance(value, datetime) or value.tzinfo is None:
        return FieldError(
            name, Message(N_("{name} must be a timezone-aware date and time."), {"name": name})
        )
    if kind is VariableKind.DATE:
        return formatter.format_date(value, language=language.value, zone=zone)
    return formatter.format_time(value, language=language.value, zone=zone)


def render_template(
    template: SmsTemplate,
    values: Mapping[str, object],
    *,
    formatter: DateTimeFormatter,
    zone: tzinfo,
    gsm_fold: bool = True,
) -> RenderedSms:
    """Fill ``template`` with ``values`` and measure the result.

    Args:
        template: a validated template.
        values: text for text variables, aware datetimes for ``date`` and ``time``;
            values the template does not use are ignored.
        formatter: formats dates and times for the template's language.
        zone: the facility's time zone.
        gsm_fold: for French and English, replace characters outside the GSM alphabet
            (``ç``, ``ê``, curly quotes) by look-alikes when that makes the whole text
            GSM-7: 160 characters per SMS instead of 70.

    Raises:
        ValidationFailed: a variable has no value or a value of the wrong type.
    """
    formatted: dict[str, str] = {}
    errors: list[FieldError] = []
    for name in template.variables:
        if name not in values or values[name] is None:
            errors.append(
                FieldError(
                    name,
                    Message(N_("No value for the variable {name}."), {"name": name}),
                    code="missing",
                )
            )
            continue
        result = _format_value(
            name, values[name], language=template.language, formatter=formatter, zone=zone
        )
        if isinstance(result, FieldError):
            errors.append(result)
        else:
            formatted[name] = result
    if errors:
        raise ValidationFailed(errors)
    text = template.body.format_map(formatted)
    if gsm_fold and template.language is not Language.AR:
        text = fold_to_gsm7(text)
    return RenderedSms(template.key, template.language, text, analyze(text))


class TemplateCatalog:
    """Templates by (purpose, language), with a language fallback.

    A facility's overrides replace the defaults one by one; a language with no template
    for a purpose falls back along ``fallback`` (French, then English, by default).
    """

    def __init__(
        self,
        templates: Iterable[SmsTemplate],
        *,
        fallback: Sequence[Language] = (Language.FR, Language.EN),
    ) -> None:
        self._templates = {(t.key, t.language): t for t in templates}
        self._fallback = tuple(fallback)

    @classmethod
    def defaults(cls) -> TemplateCatalog:
        """The built-in French, Arabic and English texts."""
        from afiya.domain.messaging.default_templates import DEFAULT_TEXTS

        return cls(
            SmsTemplate(key, language, body)
            for key, by_language in DEFAULT_TEXTS.items()
            for language, body in by_language.items()
        )

    def with_overrides(self, templates: Iterable[SmsTemplate]) -> TemplateCatalog:
        """A catalog where ``templates`` replace the matching (purpose, language)."""
        merged = dict(self._templates)
        merged.update({(t.key, t.language): t for t in templates})
        return TemplateCatalog(merged.values(), fallback=self._fallback)

    def get(self, key: TemplateKey, language: Language | str) -> SmsTemplate:
        """The template for ``key`` in ``language``, or in a fallback language."""
        try:
            wanted: Language | None = Language(language)
        except ValueError:
            wanted = None
        order = ([wanted] if wanted else []) + [lang for lang in self._fallback if lang != wanted]
        for candidate in order:
            template = self._templates.get((key, candidate))
            if template is not None:
                return template
        raise NotFound(
            Message(N_("No template for {key}."), {"key": key.value}), code="template_not_found"
        )

    def __iter__(self) -> Iterator[SmsTemplate]:
        return iter(self._templates.values())
