from __future__ import annotations

import pytest

from afiya.domain.pbf_intelligence.errors import InsufficientHistory
from afiya.domain.pbf_intelligence.policies import TrainingPolicy, check_training_history


class TestTrainingGuard:
    def test_enough_history_passes(self) -> None:
        check_training_history(periods=6, rows=500, positives=20, policy=TrainingPolicy())

    def test_too_few_months_is_refused_with_the_figures(self) -> None:
        with pytest.raises(InsufficientHistory) as caught:
            check_training_history(periods=2, rows=10_000, positives=900, policy=TrainingPolicy())
        error = caught.value
        assert error.code == "insufficient_history"
        assert error.message.params == {"periods": 2, "min_periods": 6}
        assert "verified months" in error.message.render()
        assert error.details == {"periods": 2, "rows": 10_000, "positives": 900}

    def test_too_few_rows_is_refused(self) -> None:
        with pytest.raises(InsufficientHistory) as caught:
            check_training_history(periods=12, rows=499, positives=100, policy=TrainingPolicy())
        assert caught.value.message.params == {"rows": 499, "min_rows": 500}

    def test_no_over_declaration_found_is_refused(self) -> None:
        with pytest.raises(InsufficientHistory) as caught:
            check_training_history(periods=12, rows=5000, positives=0, policy=TrainingPolicy())
        assert caught.value.message.params["positives"] == 0
        assert caught.value.message.render().startswith("Only 0 over-declarations")
