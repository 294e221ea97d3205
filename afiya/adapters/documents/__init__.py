"""Document renderers (PDF)."""

from afiya.adapters.documents.pdf import FontMissing, FpdfDocumentRenderer

__all__ = ["FontMissing", "FpdfDocumentRenderer"]
