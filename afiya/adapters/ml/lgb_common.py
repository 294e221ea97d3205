"""LightGBM settings and the facility-wise train/validation split shared by both models."""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import numpy.typing as npt

from afiya.adapters.ml.cube import FloatArray
from afiya.adapters.ml.features import CATEGORICAL

LIBRARY = f"lightgbm {lgb.__version__}"
VALIDATION_SHARE = 0.2
# Below this many rows, thread start-up and synchronisation cost more than they save.
SINGLE_THREAD_BELOW_ROWS = 50_000
EARLY_STOPPING_ROUNDS = 30
_MIN_VALIDATION_ROWS = 50


def lgb_params(objective: str, *, seed: int, num_threads: int, rows: int) -> dict[str, Any]:
    """Parameters for both models: shallow trees, bagging, deterministic on a given machine.

    ``num_threads`` is honoured from :data:`SINGLE_THREAD_BELOW_ROWS` rows up; smaller
    data sets train on one thread.
    """
    return {
        "objective": objective,
        "learning_rate": 0.15,
        # Small, shallow trees: on the synthetic programme, flag precision and recall were
        # the same as with 48-leaf unbounded trees at a third of the learning rate, while
        # scoring and TreeSHAP reasons (cost ~ trees x leaves x depth^2) got 5-10x cheaper.
        "num_leaves": 15,
        "max_depth": 5,
        "min_data_in_leaf": 40,
        "feature_fraction": 0.9,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "max_bin": 127,
        "max_cat_to_onehot": 8,
        "num_threads": num_threads if rows >= SINGLE_THREAD_BELOW_ROWS else 1,
        "seed": seed,
        "deterministic": True,
        "force_row_wise": True,
        "verbose": -1,
    }


def predict(booster: lgb.Booster, x: npt.NDArray[np.float32], **options: Any) -> FloatArray:
    """``booster.predict`` as a float64 array (LightGBM's own return type is a union)."""
    return np.asarray(booster.predict(x, **options), dtype=np.float64)


def facility_split(
    f_idx: npt.NDArray[np.int64], n_facilities: int, seed: int
) -> npt.NDArray[np.bool_]:
    """Validation mask holding out whole facilities (their months are correlated)."""
    held_out = np.random.default_rng(seed).random(n_facilities) < VALIDATION_SHARE
    return held_out[f_idx]


def fit(
    params: dict[str, Any],
    x: npt.NDArray[np.float32],
    y: npt.NDArray[np.float64],
    *,
    features: tuple[str, ...],
    is_valid: npt.NDArray[np.bool_],
    num_boost_round: int,
    weight: npt.NDArray[np.float64] | None = None,
) -> tuple[lgb.Booster, npt.NDArray[np.bool_]]:
    """Train with early stopping on the held-out facilities (all rows when too few).

    Returns the booster and the validation mask actually used (all false when the data
    were too few to hold facilities out).
    """
    categorical = [name for name in CATEGORICAL if name in features]
    names = list(features)
    train_mask = ~is_valid
    if is_valid.sum() < _MIN_VALIDATION_ROWS or train_mask.sum() < _MIN_VALIDATION_ROWS:
        train_mask = np.ones_like(is_valid)
        is_valid = np.zeros_like(is_valid)
    w_train = None if weight is None else weight[train_mask]
    train = lgb.Dataset(
        x[train_mask],
        y[train_mask],
        weight=w_train,
        feature_name=names,
        categorical_feature=categorical,
        free_raw_data=True,
    )
    if not is_valid.any():
        return lgb.train(params, train, num_boost_round=num_boost_round // 2), is_valid
    w_valid = None if weight is None else weight[is_valid]
    valid = lgb.Dataset(x[is_valid], y[is_valid], weight=w_valid, reference=train)
    booster = lgb.train(
        params,
        train,
        num_boost_round=num_boost_round,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(EARLY_STOPPING_ROUNDS, verbose=False)],
    )
    return booster, is_valid
