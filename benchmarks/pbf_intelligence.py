"""PBF intelligence benchmark: training time, whole-period scoring time, peak memory, hold-out.

Run: ``.venv/bin/python benchmarks/pbf_intelligence.py`` (about a minute on two cores).

1. Training on the full synthetic programme (500 facilities x 24 months x 20 indicators,
   every facility-month verified so every declared cell is a training row), LightGBM on
   ``--threads`` threads (2 by default). Target: under 60 s for both models.
2. Scoring one whole period for 3,000 facilities x 40 indicators (13 months of history
   for the lags): features, anomaly scores, reasons for the flagged values, audit-target
   predictions and the sampling plan. Target: under 5 s.
3. Time-based hold-out on the full programme (train months 1-18, test 19-24): anomaly
   precision and recall, recovered money of the model, random and rule-based plans.

Peak memory is the process's maximum resident set size (includes LightGBM's own).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Callable
from typing import TypeVar

import numpy as np

from afiya.adapters.ml.anomaly import train_anomaly_model
from afiya.adapters.ml.audit_target import train_audit_model
from afiya.adapters.ml.evaluation import evaluate_holdout
from afiya.adapters.ml.features import CubeContext
from afiya.adapters.ml.synthetic import SyntheticConfig, generate_programme
from afiya.domain.pbf_intelligence.model import PlanMethod
from afiya.domain.pbf_intelligence.sampling import draw_sampling_plan

T = TypeVar("T")


def peak_mib() -> float:
    """Maximum resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(label: str, action: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = action()
    elapsed = time.perf_counter() - start
    print(f"  {label:<44} {elapsed:8.2f} s   (peak RSS {peak_mib():7.0f} MiB)")
    return result, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=500)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--indicators", type=int, default=20)
    parser.add_argument("--score-facilities", type=int, default=3000)
    parser.add_argument("--score-indicators", type=int, default=40)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-holdout", action="store_true")
    args = parser.parse_args()
    if args.facilities * args.months * args.indicators > 2_000_000:
        sys.exit("refusing more than 2,000,000 training cells on a shared machine")

    print(f"Python {sys.version.split()[0]}, LightGBM threads {args.threads}")
    print(
        f"1. Training: {args.facilities} facilities x {args.months} months x "
        f"{args.indicators} indicators"
    )
    config = SyntheticConfig(
        facilities=args.facilities,
        months=args.months,
        indicators=args.indicators,
        verification_rate=1.0,
    )
    programme, _ = timed("generate programme", lambda: generate_programme(config))
    cube = programme.cube
    last = cube.periods[-1]
    cells = int((~np.isnan(cube.declared)).sum())
    print(f"  declared cells (training rows): {cells:,} of {cube.declared.size:,} in the cube")
    context, t_ctx = timed("features context", lambda: CubeContext.build(cube, programme.parents))
    anomaly, t_anomaly = timed(
        "train anomaly expected-value model",
        lambda: train_anomaly_model(
            cube, parents=programme.parents, last_period=last, context=context,
            num_threads=args.threads,
        ),
    )  # fmt: skip
    audit, t_audit = timed(
        "train audit-target model",
        lambda: train_audit_model(
            cube, parents=programme.parents, last_period=last, context=context,
            num_threads=args.threads,
        ),
    )  # fmt: skip
    print(
        f"  TOTAL training {t_ctx + t_anomaly + t_audit:.2f} s (target < 60 s); anomaly "
        f"{anomaly.metadata.metrics['best_iteration']:.0f} trees, audit "
        f"{audit.metadata.metrics['best_iteration']:.0f} trees"
    )
    blob_size = len(anomaly.to_bytes()) + len(audit.to_bytes())
    print(f"  artefacts: {blob_size / 1e6:.1f} MB for both models")

    print(
        f"2. Scoring one period: {args.score_facilities} facilities x "
        f"{args.score_indicators} indicators (13 months of history)"
    )
    # Set-up (not timed): models that know the 40 indicators, trained on a smaller
    # programme with the same grid; scoring uses them on 3,000 other facilities.
    grid = generate_programme(
        SyntheticConfig(facilities=250, months=24, indicators=args.score_indicators, seed=98)
    )
    anomaly, _ = timed(
        "set-up: train anomaly model (250 x 24 x 40)",
        lambda: train_anomaly_model(
            grid.cube, parents=grid.parents, last_period=grid.cube.periods[-1],
            num_threads=args.threads,
        ),
    )  # fmt: skip
    audit, _ = timed(
        "set-up: train audit-target model (250 x 24 x 40)",
        lambda: train_audit_model(
            grid.cube, parents=grid.parents, last_period=grid.cube.periods[-1],
            num_threads=args.threads,
        ),
    )  # fmt: skip
    scoring = generate_programme(
        SyntheticConfig(
            facilities=args.score_facilities, months=13, indicators=args.score_indicators, seed=99
        )
    )
    view = scoring.cube.up_to(scoring.cube.periods[-1])
    period = view.periods[-1]
    start = time.perf_counter()
    ctx, _ = timed("features context", lambda: CubeContext.build(view, scoring.parents))
    batch, _ = timed("anomaly scores", lambda: anomaly.score_period(view, period, context=ctx))
    flagged, _ = timed("reasons for flagged values", lambda: anomaly.explain(view, batch))
    prediction, _ = timed(
        "audit-target predictions", lambda: audit.predict_period(view, period, context=ctx)
    )
    risks, _ = timed(
        "per-facility expected recovery", lambda: audit.facility_risks(view, prediction)
    )
    plan, _ = timed(
        "sampling plan (300 visits)",
        lambda: draw_sampling_plan(
            risks, period=period, budget=300, rng=random.Random(1), method=PlanMethod.MODEL
        ),
    )
    total = time.perf_counter() - start
    print(
        f"  TOTAL scoring {total:.2f} s (target < 5 s) for {len(batch.rows):,} values; "
        f"{len(flagged):,} flagged; plan {plan.n_ranked} ranked + {plan.n_random} random"
    )

    if not args.skip_holdout:
        print(
            f"3. Hold-out (train months 1-18, test 19-24) on {args.facilities} x "
            f"{args.months} x {args.indicators}, half of the facility-months verified"
        )
        full = generate_programme(
            SyntheticConfig(
                facilities=args.facilities, months=args.months, indicators=args.indicators
            )
        )
        report, _ = timed(
            "evaluate", lambda: evaluate_holdout(full, train_months=18, num_threads=args.threads)
        )
        for line in report.lines():
            print(f"  {line}")
    print(f"Peak RSS {peak_mib():.0f} MiB")


if __name__ == "__main__":
    main()
