"""FHIR R4: mappers between Afiya's model and FHIR resources, and the server engine."""
