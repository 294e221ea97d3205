"""USSD screen texts in French, Modern Standard Arabic and English, as data.

A USSD screen holds 160 octets: 182 characters of the GSM alphabet, but only 80 once a
single character is outside it. Arabic is therefore terse, and French avoids ê, â, ç,
î, ô (not in the GSM alphabet) so its screens keep the 182-character room: "Me faire
rappeler" rather than "Être rappelé". The engine measures every screen it builds and
shortens dynamic parts (facility names, lists of slots) to fit; ``tests`` walk all of them.
"""

from __future__ import annotations

from typing import Final

# Shown before the language is known: every language at once, hence short.
LANGUAGE_MENU: Final = "Afiya - عافية\n1 Français\n2 العربية\n3 English"
LANGUAGE_HINT: Final = "1-3 ?"
LANGUAGE_CHOICES: Final[dict[str, str]] = {"1": "fr", "2": "ar", "3": "en"}

TEXTS: Final[dict[str, dict[str, str]]] = {
    "fr": {
        "main": (
            "Afiya\n1 Mon prochain RDV\n2 Mes résultats\n3 Ma facture\n"
            "4 Me faire rappeler\n0 Langue"
        ),
        "identify": "Entrez votre code PIN ou votre date de naissance (JJMMAAAA):",
        "identify_retry": "Entrez de nouveau votre code:",
        "appointment": "RDV le {date} à {time}",
        "appointment_options": "1 Confirmer\n2 Annuler\n3 Changer de date",
        "cancel_confirm": "Annuler le RDV du {date} à {time} ?\n1 Oui\n2 Non",
        "reschedule": "Choisissez une nouvelle date:",
        "back": "0 Retour",
        "hint_invalid": "Choix invalide.",
        "hint_format": "Format invalide.",
        "hint_wrong_secret": "Code incorrect. Essais restants: {remaining}",
        "end_locked": "Trop d'essais. Réessayez dans {minutes} min.",
        "end_no_appointment": "Vous n'avez aucun RDV à venir.",
        "end_confirmed": "Merci. Votre RDV du {date} à {time} est confirmé.",
        "end_cancelled": "Votre RDV du {date} à {time} est annulé.",
        "end_rescheduled": "Nouveau RDV: {date} à {time}, {facility}.",
        "end_no_slots": (
            "Aucune autre date disponible. Choisissez 4 au menu pour qu'on vous rappelle."
        ),
        "end_results_ready": (
            "Vos résultats sont disponibles. Venez les retirer au centre de santé."
        ),
        "end_no_results": "Aucun nouveau résultat pour le moment.",
        "end_balance": "Montant à payer: {amount}",
        "end_no_balance": "Vous n'avez rien à payer.",
        "end_bill_unavailable": (
            "Le montant de votre facture n'est pas encore disponible ici. "
            "Renseignez-vous à la caisse."
        ),
        "end_callback": "Merci. Un agent va vous rappeler dans les meilleurs délais.",
        "end_failed": "Opération impossible. Contactez le centre de santé.",
    },
    "ar": {
        "main": "عافية\n1 موعدي القادم\n2 نتائجي\n3 فاتورتي\n4 اطلب اتصالا\n0 اللغة",
        "identify": "أدخل رمزك السري أو تاريخ ميلادك (مثال 01021990):",
        "identify_retry": "أعد إدخال الرمز:",
        "appointment": "موعدك {date} {time}",
        "appointment_options": "1 تأكيد\n2 إلغاء\n3 تغيير",
        "cancel_confirm": "إلغاء موعد {date} {time}؟\n1 نعم\n2 لا",
        "reschedule": "اختر موعدا جديدا:",
        "back": "0 رجوع",
        "hint_invalid": "اختيار خاطئ.",
        "hint_format": "صيغة غير صحيحة.",
        "hint_wrong_secret": "رمز خاطئ. محاولات متبقية: {remaining}",
        "end_locked": "محاولات كثيرة. أعد المحاولة بعد {minutes} دقيقة.",
        "end_no_appointment": "لا يوجد لديك موعد قادم.",
        "end_confirmed": "شكرا. تم تأكيد موعدك {date} {time}.",
        "end_cancelled": "تم إلغاء موعدك {date} {time}.",
        "end_rescheduled": "موعدك الجديد: {date} {time}، {facility}.",
        "end_no_slots": "لا توجد مواعيد أخرى متاحة. اختر 4 في القائمة ليتصل بك أحد موظفينا.",
        "end_results_ready": "نتائجك جاهزة. يرجى الحضور لاستلامها من المركز الصحي.",
        "end_no_results": "لا توجد نتائج جديدة حاليا.",
        "end_balance": "المبلغ المستحق: {amount}",
        "end_no_balance": "لا يوجد مبلغ مستحق عليك.",
        "end_bill_unavailable": "مبلغ فاتورتك غير متوفر هنا بعد. استفسر لدى الصندوق.",
        "end_callback": "شكرا. سيتصل بك أحد موظفينا قريبا.",
        "end_failed": "تعذر تنفيذ طلبك. يرجى التواصل مع المركز الصحي.",
    },
    "en": {
        "main": "Afiya\n1 My next appointment\n2 My results\n3 My bill\n4 Call me back\n0 Language",
        "identify": "Enter your PIN or your date of birth (DDMMYYYY):",
        "identify_retry": "Enter your code again:",
        "appointment": "Appointment {date} at {time}",
        "appointment_options": "1 Confirm\n2 Cancel\n3 Change date",
        "cancel_confirm": "Cancel the appointment on {date} at {time}?\n1 Yes\n2 No",
        "reschedule": "Choose a new date:",
        "back": "0 Back",
        "hint_invalid": "Invalid choice.",
        "hint_format": "Invalid format.",
        "hint_wrong_secret": "Wrong code. Attempts left: {remaining}",
        "end_locked": "Too many attempts. Try again in {minutes} min.",
        "end_no_appointment": "You have no upcoming appointment.",
        "end_confirmed": "Thank you. Your appointment on {date} at {time} is confirmed.",
        "end_cancelled": "Your appointment on {date} at {time} is cancelled.",
        "end_rescheduled": "New appointment: {date} at {time}, {facility}.",
        "end_no_slots": "No other date is available. Choose 4 in the menu and we will call you.",
        "end_results_ready": "Your results are ready. Please collect them at the health centre.",
        "end_no_results": "No new results for now.",
        "end_balance": "Amount due: {amount}",
        "end_no_balance": "You have nothing to pay.",
        "end_bill_unavailable": "Your bill is not available here yet. Please ask at the cash desk.",
        "end_callback": "Thank you. Someone will call you back soon.",
        "end_failed": "This could not be done. Please contact the health centre.",
    },
}

# Main-menu entries: key typed -> (destination, needs identification first).
MAIN_MENU: Final[dict[str, tuple[str, bool]]] = {
    "1": ("appointment", True),
    "2": ("results", True),
    "3": ("bill", True),
    "4": ("callback", False),
}
