"""The imaging adapter: DICOM key tags read without a DICOM library (explicit and implicit
VR little endian), renditions of pictures, and files it cannot read left alone."""

from __future__ import annotations

import io
import struct

from PIL import Image

from afiya.adapters.imaging import PillowImageProcessor, read_dicom_tags
from afiya.domain.clinical.ports import ImageUpload

STUDY = b"1.2.840.113619.2.55.3.1"


def _explicit(group: int, element: int, vr: bytes, value: bytes) -> bytes:
    value += b"\x00" * (len(value) % 2)
    return struct.pack("<HH", group, element) + vr + struct.pack("<H", len(value)) + value


def _implicit(group: int, element: int, value: bytes) -> bytes:
    value += b" " * (len(value) % 2)
    return struct.pack("<HHI", group, element, len(value)) + value


def _file(transfer_syntax: bytes, dataset: bytes) -> bytes:
    meta = _explicit(0x0002, 0x0010, b"UI", transfer_syntax)
    length = _explicit(0x0002, 0x0000, b"UL", struct.pack("<I", len(meta)))
    return b"\x00" * 128 + b"DICM" + length + meta + dataset


def test_key_tags_of_an_implicit_vr_little_endian_file_are_read():
    data = _file(
        b"1.2.840.10008.1.2",
        _implicit(0x0008, 0x0060, b"CR")
        + _implicit(0x0010, 0x0020, b"NKC-000123")
        + _implicit(0x0018, 0x0015, b"CHEST")
        + _implicit(0x0020, 0x000D, STUDY),
    )
    tags = read_dicom_tags(data)
    assert tags == {
        "Modality": "CR",
        "PatientID": "NKC-000123",
        "BodyPartExamined": "CHEST",
        "StudyInstanceUID": STUDY.decode(),
    }
    processed = PillowImageProcessor().process(ImageUpload("thorax.dcm", "application/dicom", data))
    assert processed.kind == "dicom" and processed.renditions == ()


def test_a_truncated_or_foreign_file_yields_what_could_be_read_and_no_rendition():
    data = _file(b"1.2.840.10008.1.2.1", _explicit(0x0008, 0x0060, b"CS", b"DX"))
    assert read_dicom_tags(data + b"\x10\x00") == {"Modality": "DX"}
    assert read_dicom_tags(b"%PDF-1.7 not an image") == {}
    other = PillowImageProcessor().process(ImageUpload("x.bin", "image/png", b"\x89PNG broken"))
    assert other.kind == "other" and other.renditions == ()


def test_a_small_picture_keeps_its_size_in_the_webp_rendition():
    buffer = io.BytesIO()
    Image.new("L", (300, 200), 128).save(buffer, format="JPEG")
    processed = PillowImageProcessor().process(
        ImageUpload("echo.jpg", "image/jpeg", buffer.getvalue())
    )
    sizes = {r.role: (r.width, r.height) for r in processed.renditions}
    assert (processed.width, processed.height) == (300, 200)
    assert sizes == {"thumbnail": (256, 171), "webp": (300, 200)}
