from __future__ import annotations

import numpy as np
import pytest

from afiya.adapters.ml.cube import ProgrammeCube
from afiya.adapters.ml.synthetic import (
    HONEST,
    MID_SERIES,
    PERSISTENT,
    SyntheticConfig,
    SyntheticProgramme,
    generate_programme,
)


def _col(programme: SyntheticProgramme, code: str) -> int:
    return programme.cube.indicator_codes.index(code)


class TestGenerator:
    def test_same_seed_same_programme_other_seed_other_programme(self) -> None:
        config = SyntheticConfig(facilities=40, months=6, indicators=5, seed=3)
        first, again = generate_programme(config), generate_programme(config)
        other = generate_programme(SyntheticConfig(facilities=40, months=6, indicators=5, seed=4))
        assert np.array_equal(first.cube.declared, again.cube.declared, equal_nan=True)
        assert np.array_equal(first.truth.over_declared, again.truth.over_declared)
        assert not np.array_equal(first.cube.declared, other.cube.declared, equal_nan=True)

    def test_sizes_are_parameters(self) -> None:
        programme = generate_programme(SyntheticConfig(facilities=30, months=7, indicators=25))
        assert programme.cube.shape == (30, 25, 7)
        assert len(set(programme.cube.indicator_codes)) == 25
        assert programme.cube.periods[0] == "202301"
        assert programme.cube.periods[-1] == "202307"

    def test_levels_districts_and_services_by_level(self, programme: SyntheticProgramme) -> None:
        cube = programme.cube
        assert set(np.unique(cube.levels)) == {0, 1, 2}
        assert len(set(cube.districts)) == 12
        hospitals = cube.population[cube.levels == 2]
        posts = cube.population[cube.levels == 0]
        assert hospitals.min() > posts.max()

    def test_services_follow_the_level_of_care(self) -> None:
        programme = generate_programme(SyntheticConfig(facilities=60, months=3, indicators=20))
        cube = programme.cube
        offered = ~np.isnan(cube.declared[:, :, 0])
        caesarean = offered[:, _col(programme, "CESAR")]
        tuberculosis = offered[:, _col(programme, "TB_DETECT")]
        assert np.array_equal(caesarean, cube.levels == 2)
        assert np.array_equal(tuberculosis, cube.levels != 0)
        assert offered[:, _col(programme, "CN_NEW")].all()

    def test_related_indicators_are_consistent_in_the_truth(
        self, programme: SyntheticProgramme
    ) -> None:
        true = programme.truth.true_value
        for child, parent in programme.parents.items():
            c, p = true[:, _col(programme, child)], true[:, _col(programme, parent)]
            both = ~np.isnan(c) & ~np.isnan(p)
            assert np.all(c[both] <= p[both]), f"{child} exceeds {parent}"

    def test_malaria_peaks_in_the_rainy_season(self, programme: SyntheticProgramme) -> None:
        malaria = programme.truth.true_value[:, _col(programme, "PALU_TEST"), :12]
        by_month = np.nanmean(malaria, axis=0)
        assert by_month[6:10].mean() > 2.5 * by_month[0:4].mean()

    def test_injected_over_declaration_is_known_and_shaped_by_kind(
        self, programme: SyntheticProgramme
    ) -> None:
        truth, cube = programme.truth, programme.cube
        over = truth.over_declared
        assert np.all(cube.declared[over] > truth.true_value[over])
        honest = truth.cheater_kind == HONEST
        assert not over[honest].any()
        assert 0.1 < (~honest).mean() < 0.2
        per_month = over.any(axis=1)
        persistent = truth.cheater_kind == PERSISTENT
        assert per_month[persistent].all()
        for f in np.flatnonzero(truth.cheater_kind == MID_SERIES):
            start = truth.fraud_start[f]
            assert not per_month[f, :start].any()
            assert per_month[f, start:].all()

    def test_digit_preference_rounds_figures_to_five(self, programme: SyntheticProgramme) -> None:
        declared = programme.cube.declared[programme.truth.rounder]
        big = declared[declared >= 10]
        assert big.size > 100
        assert np.all(np.mod(big, 5) == 0)
        others = programme.cube.declared[~programme.truth.rounder]
        others = others[others >= 10]
        assert np.mean(np.mod(others, 5) == 0) < 0.3

    def test_verification_covers_whole_facility_months_and_validates_the_truth(
        self, programme: SyntheticProgramme
    ) -> None:
        cube, truth = programme.cube, programme.truth
        offered = ~np.isnan(cube.declared)
        seen = ~np.isnan(cube.validated)
        month_seen = seen.any(axis=1)
        assert np.array_equal(seen, month_seen[:, None, :] & offered)
        assert 0.4 < month_seen.mean() < 0.6
        assert np.mean(cube.validated[seen] == truth.true_value[seen]) > 0.85

    def test_hmis_exists_only_for_hmis_indicators(self, programme: SyntheticProgramme) -> None:
        cube = programme.cube
        for n, spec in enumerate(programme.specs):
            reported = ~np.isnan(cube.hmis[:, n])
            assert reported.any() == spec.in_hmis


class TestCubeRecords:
    def test_records_round_trip(self) -> None:
        programme = generate_programme(SyntheticConfig(facilities=15, months=4, indicators=6))
        cube = programme.cube
        records = cube.to_records()
        assert len(records) == int((~np.isnan(cube.declared)).sum())
        back = ProgrammeCube.from_records(records)
        order = [cube.indicator_codes.index(code) for code in back.indicator_codes]
        assert back.facility_ids == cube.facility_ids
        assert back.periods == cube.periods
        for name in ("declared", "verified", "validated", "hmis"):
            assert np.array_equal(
                getattr(back, name), getattr(cube, name)[:, order], equal_nan=True
            ), name
        assert np.array_equal(back.levels, cube.levels)

    def test_up_to_hides_the_outcomes_of_the_planned_month(
        self, programme: SyntheticProgramme
    ) -> None:
        cube = programme.cube
        view = cube.up_to(cube.periods[10])
        assert view.shape[2] == 11
        assert np.isnan(view.validated[:, :, -1]).all()
        assert np.array_equal(view.validated[:, :, :-1], cube.validated[:, :, :10], equal_nan=True)
        assert np.array_equal(view.declared[:, :, -1], cube.declared[:, :, 10], equal_nan=True)

    def test_cube_rejects_gaps_between_months(self) -> None:
        cube = generate_programme(SyntheticConfig(facilities=5, months=3, indicators=2)).cube
        with pytest.raises(ValueError, match="consecutive"):
            ProgrammeCube(
                facility_ids=cube.facility_ids, districts=cube.districts, levels=cube.levels,
                population=cube.population, indicator_codes=cube.indicator_codes,
                periods=("202301", "202302", "202304"), declared=cube.declared,
                verified=cube.verified, validated=cube.validated, hmis=cube.hmis,
                tariff=cube.tariff,
            )  # fmt: skip
