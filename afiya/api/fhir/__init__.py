"""FHIR R4 over HTTP (``/fhir/R4``): routes from the resource registry, OperationOutcome errors."""
