"""Thumbnails and WebP renditions with Pillow; DICOM key tags read without a DICOM library.

A radiograph photographed or exported as JPEG/PNG gets a 256-pixel thumbnail and a
WebP rendition at most 1600 pixels wide (quality 70), a few tens of kilobytes to view
over a 2G/3G link. A DICOM file is kept as is (a viewer needs the original); its key tags
(study, series and instance UIDs, modality, study date and description, body part) are
read here so that studies can be found, since ``pydicom`` is not a dependency. The reader
handles the Part 10 file format with explicit or implicit VR little endian, which covers
the files of the ultrasound and radiography units in use; anything else yields no tags.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping

from afiya.domain.clinical.ports import ImageUpload, ProcessedImage, Rendition

THUMBNAIL_SIZE = 256
WEBP_MAX_WIDTH = 1600
WEBP_QUALITY = 70

KEY_TAGS: Mapping[tuple[int, int], str] = {
    (0x0008, 0x0018): "SOPInstanceUID",
    (0x0008, 0x0020): "StudyDate",
    (0x0008, 0x0060): "Modality",
    (0x0008, 0x1030): "StudyDescription",
    (0x0010, 0x0020): "PatientID",
    (0x0018, 0x0015): "BodyPartExamined",
    (0x0020, 0x000D): "StudyInstanceUID",
    (0x0020, 0x000E): "SeriesInstanceUID",
}
_LONG_VRS = {
    b"OB",
    b"OD",
    b"OF",
    b"OL",
    b"OW",
    b"SQ",
    b"UC",
    b"UN",
    b"UR",
    b"UT",
    b"OV",
    b"SV",
    b"UV",
}
_IMPLICIT_LE = "1.2.840.10008.1.2"
_UNDEFINED = 0xFFFFFFFF


def is_dicom(data: bytes) -> bool:
    return len(data) > 132 and data[128:132] == b"DICM"


def read_dicom_tags(data: bytes) -> dict[str, str]:
    """The key tags of a DICOM Part 10 file (empty when it cannot be read)."""
    if not is_dicom(data):
        return {}
    tags: dict[str, str] = {}
    pos, implicit = 132, False
    last = max(KEY_TAGS)
    try:
        while pos + 8 <= len(data):
            group, element = struct.unpack_from("<HH", data, pos)
            in_meta = group == 0x0002
            if implicit and not in_meta:
                (length,) = struct.unpack_from("<I", data, pos + 4)
                vr, start = b"", pos + 8
            else:
                vr = data[pos + 4 : pos + 6]
                if vr in _LONG_VRS:
                    (length,) = struct.unpack_from("<I", data, pos + 8)
                    start = pos + 12
                else:
                    (length,) = struct.unpack_from("<H", data, pos + 6)
                    start = pos + 8
            if length == _UNDEFINED or (group, element) > last:
                break  # a sequence of undefined length, or past the tags we index
            value = data[start : start + length]
            if (group, element) == (0x0002, 0x0010):
                implicit = value.rstrip(b"\x00 ").decode("ascii", "replace") == _IMPLICIT_LE
            name = KEY_TAGS.get((group, element))
            if name is not None:
                tags[name] = value.rstrip(b"\x00 ").decode("latin-1").strip()
            pos = start + length
    except struct.error:
        return tags
    return tags


class PillowImageProcessor:
    """:class:`~afiya.domain.clinical.ports.ImageProcessor` with Pillow."""

    def process(self, upload: ImageUpload) -> ProcessedImage:
        if is_dicom(upload.data):
            return ProcessedImage(kind="dicom", dicom_tags=read_dicom_tags(upload.data))
        try:
            from PIL import Image, UnidentifiedImageError
        except ImportError:  # pragma: no cover - Pillow is a dependency
            return ProcessedImage(kind="other")
        try:
            with Image.open(io.BytesIO(upload.data)) as opened:
                opened.load()
                picture = opened.convert("RGB")
        except (UnidentifiedImageError, OSError):
            return ProcessedImage(kind="other")
        width, height = picture.size
        thumbnail = picture.copy()
        thumbnail.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
        webp = picture.copy()
        if webp.width > WEBP_MAX_WIDTH:
            webp.thumbnail((WEBP_MAX_WIDTH, WEBP_MAX_WIDTH * height // max(width, 1)))
        return ProcessedImage(
            kind="image",
            width=width,
            height=height,
            renditions=(
                _encode("thumbnail", thumbnail, "JPEG", "image/jpeg", quality=80),
                _encode("webp", webp, "WEBP", "image/webp", quality=WEBP_QUALITY),
            ),
        )


def _encode(
    role: str, picture: object, fmt: str, content_type: str, **options: object
) -> Rendition:
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt, **options)  # type: ignore[attr-defined]
    width, height = picture.size  # type: ignore[attr-defined]
    return Rendition(role, content_type, buffer.getvalue(), width, height)
