"""ICD-10 code list adapters."""

from afiya.adapters.icd10.catalogue import SimpleIcd10Catalogue

__all__ = ["SimpleIcd10Catalogue"]
