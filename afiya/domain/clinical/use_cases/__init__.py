"""Use cases of the clinical record: each loads what the rules need through the
repository, applies the pure rules of this package, stores the result and audits it.

Access: every use case authorises against the *patient's* facility path (the record's
scope) with ``clinical:read`` or ``clinical:write`` (``lab_results:write`` and
``imaging_results:write`` for results), and records an audit event carrying the
patient id, for reads as for writes. A merged patient's record is read through the
survivor; writing on a merged record is refused.
"""

from afiya.domain.clinical.use_cases.access import (
    CRITICAL_RESULT_JOB,
    DOCUMENT_LANGUAGES,
    MAX_IMAGE_FILES,
    NOTIFICATION_CRITICAL_RESULT,
    ClinicalRecordNotFound,
    blob_key,
)
from afiya.domain.clinical.use_cases.documents import (
    DocumentRequest,
    issue_document,
    read_document,
)
from afiya.domain.clinical.use_cases.encounters import (
    NewEncounter,
    add_encounter_diagnosis,
    cancel_encounter,
    discharge_patient,
    open_encounter,
    read_diagnosis,
    read_encounter,
    transfer_patient,
)
from afiya.domain.clinical.use_cases.record import (
    NewAllergy,
    add_patient_problem,
    amend_clinical_note,
    list_problems,
    patient_timeline,
    read_allergies,
    read_allergy,
    read_note,
    read_observation,
    read_problem,
    record_patient_allergy,
    record_vitals,
    state_no_known_allergies,
    write_clinical_note,
)
from afiya.domain.clinical.use_cases.results import (
    NewLabResult,
    attach_images,
    deliver_critical_result,
    my_notifications,
    read_image,
    read_imaging_report,
    read_lab_result,
    record_imaging_report,
    record_lab_result,
)

__all__ = [
    "CRITICAL_RESULT_JOB",
    "DOCUMENT_LANGUAGES",
    "MAX_IMAGE_FILES",
    "NOTIFICATION_CRITICAL_RESULT",
    "ClinicalRecordNotFound",
    "DocumentRequest",
    "NewAllergy",
    "NewEncounter",
    "NewLabResult",
    "add_encounter_diagnosis",
    "add_patient_problem",
    "amend_clinical_note",
    "attach_images",
    "blob_key",
    "cancel_encounter",
    "deliver_critical_result",
    "discharge_patient",
    "issue_document",
    "list_problems",
    "my_notifications",
    "open_encounter",
    "patient_timeline",
    "read_allergies",
    "read_allergy",
    "read_diagnosis",
    "read_document",
    "read_encounter",
    "read_image",
    "read_imaging_report",
    "read_lab_result",
    "read_note",
    "read_observation",
    "read_problem",
    "record_imaging_report",
    "record_lab_result",
    "record_patient_allergy",
    "record_vitals",
    "state_no_known_allergies",
    "transfer_patient",
    "write_clinical_note",
]
