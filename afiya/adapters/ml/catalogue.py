"""Indicators of the synthetic PBF programme, close to a Sahel quantity grid (tariffs in XOF).

Rates are monthly counts per 1,000 inhabitants of a health centre's catchment area;
``level_factor`` scales them for a health post, a health centre and a hospital (0: the
level does not offer the service). A child indicator is a binomial share of its parent
(ANC4 of ANC1, deliveries of ANC1, postnatal visits of deliveries...), so related
indicators stay consistent in the true values.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

# Monthly multipliers, January first. Malaria peaks with the rains (July-October),
# malnutrition in the lean season, diarrhoea with the rains, pneumonia in the cold months.
SEASONS: dict[str, tuple[float, ...]] = {
    "flat": (1.0, 1.0, 1.0, 1.0, 1.0, 0.97, 0.95, 0.95, 1.0, 1.02, 1.03, 1.05),
    "malaria": (0.5, 0.45, 0.45, 0.5, 0.6, 0.8, 1.3, 2.2, 2.6, 2.3, 1.3, 0.7),
    "lean": (0.8, 0.8, 0.9, 1.0, 1.1, 1.4, 1.6, 1.6, 1.3, 0.9, 0.8, 0.8),
    "rainy": (0.8, 0.8, 0.9, 1.0, 1.1, 1.2, 1.4, 1.5, 1.3, 1.0, 0.9, 0.8),
    "cold": (1.4, 1.3, 1.0, 0.8, 0.8, 0.8, 0.9, 0.9, 0.9, 1.0, 1.2, 1.4),
}


@dataclass(frozen=True, slots=True)
class IndicatorSpec:
    """One indicator of the synthetic grid."""

    code: str
    tariff: float
    rate_per_1000: float = 0.0
    level_factor: tuple[float, float, float] = (1.0, 1.0, 1.0)
    season: str = "flat"
    parent: str | None = None
    parent_share: tuple[float, float] = (0.0, 0.0)
    in_hmis: bool = False


# Ordered so that any prefix holds each child's parent: the first 10 form a closed grid.
CATALOGUE: tuple[IndicatorSpec, ...] = (
    IndicatorSpec("CN_NEW", 300, 25.0, (1.0, 1.0, 0.15), in_hmis=True),
    IndicatorSpec("CPN1", 1000, 3.3, (0.9, 1.0, 0.1), in_hmis=True),
    IndicatorSpec("CPN4", 2000, parent="CPN1", parent_share=(0.4, 0.7), in_hmis=True),
    IndicatorSpec(
        "ACC",
        5000,
        parent="CPN1",
        parent_share=(0.45, 0.8),
        level_factor=(0.6, 1.0, 1.0),
        in_hmis=True,
    ),
    IndicatorSpec("CPON", 1500, parent="ACC", parent_share=(0.5, 0.9)),
    IndicatorSpec("PF_NEW", 2000, 1.5, (0.8, 1.0, 0.3)),
    IndicatorSpec("VAC_PENTA3", 1000, 3.0, (1.0, 1.0, 0.2), in_hmis=True),
    IndicatorSpec("PALU_TEST", 200, 8.0, (1.0, 1.0, 0.2), "malaria", in_hmis=True),
    IndicatorSpec("PALU_CONF", 500, parent="PALU_TEST", parent_share=(0.3, 0.6), in_hmis=True),
    IndicatorSpec("MAS", 5000, 0.6, (0.8, 1.0, 0.5), "lean"),
    IndicatorSpec(
        "CESAR", 40000, parent="ACC", parent_share=(0.05, 0.12), level_factor=(0.0, 0.0, 1.0)
    ),
    IndicatorSpec("MILD", 500, parent="CPN1", parent_share=(0.7, 0.95)),
    IndicatorSpec("VAC_VAR", 1000, parent="VAC_PENTA3", parent_share=(0.75, 0.95), in_hmis=True),
    IndicatorSpec(
        "PALU_GRAVE",
        3000,
        parent="PALU_CONF",
        parent_share=(0.02, 0.06),
        level_factor=(0.0, 1.0, 3.0),
    ),
    IndicatorSpec("PEC_DIARRH", 500, 2.0, (1.0, 1.0, 0.2), "rainy"),
    IndicatorSpec("IRA", 500, 2.0, (1.0, 1.0, 0.2), "cold", in_hmis=True),
    IndicatorSpec("TB_DETECT", 20000, 0.08, (0.0, 1.0, 3.0), in_hmis=True),
    IndicatorSpec("VIH_TEST", 1500, parent="CPN1", parent_share=(0.6, 0.95), in_hmis=True),
    IndicatorSpec(
        "REF_OBST", 3000, parent="ACC", parent_share=(0.05, 0.15), level_factor=(1.5, 1.0, 0.2)
    ),
    IndicatorSpec("HOSP", 2500, 1.2, (0.0, 0.3, 1.0), in_hmis=True),
)


def catalogue(count: int, rng: np.random.Generator) -> tuple[IndicatorSpec, ...]:
    """The first ``count`` indicators; past the 20 of the grid, independent variants.

    A variant (``CN_NEW_2``...) copies a root indicator with a rate scaled at random, so a
    40-indicator programme keeps realistic volumes and seasons.
    """
    if count <= len(CATALOGUE):
        return CATALOGUE[:count]
    specs = list(CATALOGUE)
    roots = [s for s in CATALOGUE if s.parent is None]
    n = 0
    while len(specs) < count:
        root = roots[n % len(roots)]
        suffix = 2 + n // len(roots)
        scale = float(rng.uniform(0.5, 1.5))
        specs.append(
            replace(root, code=f"{root.code}_{suffix}", rate_per_1000=root.rate_per_1000 * scale)
        )
        n += 1
    return tuple(specs)
