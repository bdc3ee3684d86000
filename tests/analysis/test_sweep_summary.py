"""The depth sweep's sentences are read off the numbers in the frame."""

import math

import pandas as pd

from explorer.analysis.sweep import SWEEP_COLUMNS, sweep_summary


def test_sweep_summary_by_hand():
    frame = pd.DataFrame([
        ["batch", 8, "1-1-1", 2.0, 1.0, 0.5],
        ["batch", 20, "3-3-3", 4.0, 40.0, 10.0],
        ["none", 8, "1-1-1", 1.0, 0.5, 0.5],
        ["none", 20, "3-3-3", 100.0, 0.25, 0.0025],
    ], columns=SWEEP_COLUMNS)
    batch, none = sweep_summary(frame)
    assert batch == ("With BatchNorm: from 8 to 20 layers the plain net's first-layer gradient "
                     "grew 40-fold and the residual net's grew 2-fold; at 20 layers the plain "
                     "one is 10 times the residual one.")
    assert none.startswith("Without norm layers:")
    assert "gradient fell 2-fold and the residual net's grew 100-fold" in none
    assert "the plain one is 1/400 of the residual one" in none


def test_sweep_summary_calls_small_changes_no_change():
    frame = pd.DataFrame([
        ["batch", 8, "1-1-1", 1.0, 1.0, 1.0],
        ["batch", 56, "9-9-9", 1.05, 0.7, 0.7 / 1.05],
    ], columns=SWEEP_COLUMNS)
    (line,) = sweep_summary(frame)
    assert "plain net's first-layer gradient fell by 30 % and the residual net's stayed within " \
           "10 %" in line


def test_sweep_summary_skips_incomplete_settings():
    frame = pd.DataFrame([["batch", 8, "1-1-1", 2.0, math.nan, math.nan]], columns=SWEEP_COLUMNS)
    assert sweep_summary(frame) == []
