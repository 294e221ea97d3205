"""Built-in SMS texts in French, Modern Standard Arabic and English.

French and English texts use only the GSM 7-bit alphabet (é è à ù are in it; ê, â, ç,
î, ô and curly apostrophes are not), so a reminder fits one 160-character SMS with
usual names. Arabic always travels as UCS-2 (70 characters per SMS) and is kept short.
The keywords the texts mention (OUI/NON/STOP/RDV, نعم/لا/توقف/موعد, YES/NO/APPT) are
the ones :mod:`afiya.domain.messaging.keywords` understands.
"""

from __future__ import annotations

from typing import Final

from afiya.domain.messaging.model import Language
from afiya.domain.messaging.templates import TemplateKey

FR, AR, EN = Language.FR, Language.AR, Language.EN

DEFAULT_TEXTS: Final[dict[TemplateKey, dict[Language, str]]] = {
    TemplateKey.APPOINTMENT_REMINDER: {
        FR: (
            "{patient_name}, rappel: RDV le {date} à {time}, {facility}. "
            "Répondez OUI pour confirmer ou NON pour annuler. "
            "STOP pour ne plus recevoir de SMS."
        ),
        AR: (
            "{patient_name}، نذكّرك بموعدك يوم {date} الساعة {time} في {facility}. "
            "أرسل نعم للتأكيد أو لا للإلغاء، أو توقف لإيقاف الرسائل."
        ),
        EN: (
            "{patient_name}, reminder: appointment on {date} at {time}, {facility}. "
            "Reply YES to confirm or NO to cancel. STOP to end these SMS."
        ),
    },
    TemplateKey.APPOINTMENT_DETAILS: {
        FR: "{patient_name}, votre prochain RDV: le {date} à {time}, {facility}.",
        AR: "{patient_name}، موعدك القادم يوم {date} الساعة {time} في {facility}.",
        EN: "{patient_name}, your next appointment: {date} at {time}, {facility}.",
    },
    TemplateKey.NO_UPCOMING_APPOINTMENT: {
        FR: "Aucun rendez-vous à venir n'est enregistré. Pour en prendre un: {facility}.",
        AR: "لا يوجد لديك موعد قادم. لحجز موعد تواصل مع {facility}.",
        EN: "You have no upcoming appointment. To book one, contact {facility}.",
    },
    TemplateKey.APPOINTMENT_CONFIRMED: {
        FR: "Merci {patient_name}, votre RDV du {date} à {time} est confirmé.",
        AR: "شكرا {patient_name}، تم تأكيد موعدك يوم {date} الساعة {time}.",
        EN: "Thank you {patient_name}, your appointment on {date} at {time} is confirmed.",
    },
    TemplateKey.APPOINTMENT_CANCELLED: {
        FR: "Votre RDV du {date} à {time} est annulé. Pour un autre RDV: {facility}.",
        AR: "تم إلغاء موعدك يوم {date} الساعة {time}. لموعد آخر: {facility}.",
        EN: "Your appointment on {date} at {time} is cancelled. To book another: {facility}.",
    },
    TemplateKey.RESULTS_READY: {
        FR: (
            "{patient_name}, vos résultats d'examens sont disponibles. "
            "Merci de venir les retirer. Lieu: {facility}."
        ),
        AR: "{patient_name}، نتائج فحوصك جاهزة. يرجى الحضور لاستلامها في {facility}.",
        EN: "{patient_name}, your test results are ready. Please collect them at {facility}.",
    },
    TemplateKey.OPT_OUT_CONFIRMATION: {
        FR: "Vous ne recevrez plus de SMS de {facility}. Envoyez START pour les réactiver.",
        AR: "لن تصلك رسائل {facility} بعد الآن. أرسل اشتراك لإعادة تفعيلها.",
        EN: "You will no longer receive SMS from {facility}. Send START to resume.",
    },
    TemplateKey.OPT_IN_CONFIRMATION: {
        FR: "Vous recevrez de nouveau les SMS de {facility}. Envoyez STOP pour les désactiver.",
        AR: "ستصلك رسائل {facility} من جديد. أرسل توقف لإيقافها.",
        EN: "You will receive SMS from {facility} again. Send STOP to opt out.",
    },
    TemplateKey.HELP: {
        FR: (
            "{facility}: envoyez RDV pour votre prochain rendez-vous, OUI pour confirmer, "
            "NON pour annuler, STOP pour ne plus recevoir de SMS."
        ),
        AR: (
            "{facility}: أرسل موعد لمعرفة موعدك القادم، نعم للتأكيد، لا للإلغاء، "
            "توقف لإيقاف الرسائل."
        ),
        EN: (
            "{facility}: send APPT for your next appointment, YES to confirm, NO to cancel, "
            "STOP to end these SMS."
        ),
    },
}
