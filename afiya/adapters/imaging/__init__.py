"""Imaging files: renditions of pictures (Pillow) and the key tags of DICOM files."""

from afiya.adapters.imaging.renditions import PillowImageProcessor, read_dicom_tags

__all__ = ["PillowImageProcessor", "read_dicom_tags"]
