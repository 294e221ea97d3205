from __future__ import annotations

import struct

import numpy as np
import pytest

from afiya.adapters.ml import artefacts
from afiya.adapters.ml.anomaly import AnomalyModel
from afiya.adapters.ml.audit_target import LightGbmAuditModel
from afiya.adapters.ml.synthetic import SyntheticProgramme
from afiya.domain.pbf_intelligence.errors import InvalidModelArtefact

from .conftest import TRAIN_MONTHS


@pytest.fixture(scope="module")
def anomaly_blob(anomaly_model: AnomalyModel) -> bytes:
    return anomaly_model.to_bytes()


class TestRoundTrip:
    def test_anomaly_model_scores_identically_after_a_round_trip(
        self, programme: SyntheticProgramme, anomaly_model: AnomalyModel, anomaly_blob: bytes
    ) -> None:
        restored = AnomalyModel.from_bytes(anomaly_blob)
        assert restored.metadata == anomaly_model.metadata
        assert restored.vocabulary == anomaly_model.vocabulary
        assert restored.parents == anomaly_model.parents
        assert np.array_equal(restored.kappa, anomaly_model.kappa)
        assert np.array_equal(
            restored.tables.capacity, anomaly_model.tables.capacity, equal_nan=True
        )
        cube = programme.cube.up_to(programme.cube.periods[TRAIN_MONTHS])
        before = anomaly_model.score_period(cube, cube.periods[-1])
        after = restored.score_period(cube, cube.periods[-1])
        assert np.allclose(before.expected, after.expected, rtol=1e-12)
        assert np.array_equal(before.flagged, after.flagged)

    def test_audit_model_predicts_identically_after_a_round_trip(
        self, programme: SyntheticProgramme, audit_model: LightGbmAuditModel
    ) -> None:
        restored = LightGbmAuditModel.from_bytes(audit_model.to_bytes())
        assert restored.metadata == audit_model.metadata
        assert restored.metadata.metrics == audit_model.metadata.metrics
        cube = programme.cube.up_to(programme.cube.periods[TRAIN_MONTHS])
        before = audit_model.predict_period(cube, cube.periods[-1])
        after = restored.predict_period(cube, cube.periods[-1])
        assert np.allclose(before.money, after.money, rtol=1e-12)


class TestDamagedArtefacts:
    def test_a_flipped_byte_in_the_model_is_detected(self, anomaly_blob: bytes) -> None:
        damaged = bytearray(anomaly_blob)
        damaged[-100] ^= 0x01
        with pytest.raises(InvalidModelArtefact) as caught:
            AnomalyModel.from_bytes(bytes(damaged))
        assert caught.value.message.msgid == "The stored model is damaged."

    def test_truncated_and_foreign_bytes_are_refused(self, anomaly_blob: bytes) -> None:
        with pytest.raises(InvalidModelArtefact):
            AnomalyModel.from_bytes(anomaly_blob[:5])
        with pytest.raises(InvalidModelArtefact):
            AnomalyModel.from_bytes(anomaly_blob[: len(anomaly_blob) // 2])
        with pytest.raises(InvalidModelArtefact) as caught:
            AnomalyModel.from_bytes(b"PK\x03\x04" + anomaly_blob[4:])
        assert "not an Afiya model" in caught.value.message.msgid

    def test_another_format_version_is_refused_with_both_versions(
        self, anomaly_blob: bytes
    ) -> None:
        future = anomaly_blob[:8] + struct.pack(">B", 99) + anomaly_blob[9:]
        with pytest.raises(InvalidModelArtefact) as caught:
            AnomalyModel.from_bytes(future)
        assert caught.value.message.params == {"version": 99, "expected": 1}

    def test_a_model_of_another_kind_is_refused(self, anomaly_blob: bytes) -> None:
        with pytest.raises(InvalidModelArtefact) as caught:
            LightGbmAuditModel.from_bytes(anomaly_blob)
        assert caught.value.message.params == {
            "found": "pbf_anomaly_expected_value",
            "expected": "pbf_audit_target",
        }

    def test_header_carries_the_metadata_in_readable_json(self, anomaly_blob: bytes) -> None:
        metadata, state, _ = artefacts.unpack(anomaly_blob, kind="pbf_anomaly_expected_value")
        assert metadata.training_first_period == "202301"
        assert set(state) >= {"vocabulary", "kappa", "tables", "policy", "parents"}
