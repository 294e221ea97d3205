"""The clinical record: encounters, observations, diagnoses and problems, allergies,
notes, results, the timeline and clinical documents.

Pure rules over frozen values; the database, API and jobs are built on top of them.
Modules: ``encounters`` (state machine), ``stays`` (length of stay), ``observations``
(LOINC/UCUM catalogue), ``measurements`` (conversion, plausibility), ``derived`` (BMI,
MUAC), ``icd10`` (code rules and catalogue port), ``diagnoses``, ``problems``,
``allergies``, ``notes``, ``results``, ``timeline``, ``documents``, ``ports``, ``errors``.
"""
