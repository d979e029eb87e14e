"""The seed study's pooling of two published summaries equals one summary over all the seeds' rows."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import seed_study  # noqa: E402


def _rows(seeds: range, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for s in seeds:
        for name in seed_study.HEADLINES:
            est, se, truth = rng.normal(0.02, 0.01), rng.uniform(0.008, 0.012), rng.normal(0.02, 0.003)
            rows.append({"seed": s, "headline": name, "estimate": est, "se": se, "ci_lower": est - 1.96 * se,
                         "ci_upper": est + 1.96 * se, "p_value": rng.uniform(), "mde_80": 2.8 * se, "truth": truth})
    return pd.DataFrame(rows)


def test_pooled_summaries_equal_the_summary_of_all_rows():
    rng = np.random.default_rng(7)
    a, b = _rows(range(1, 41), rng), _rows(range(41, 71), rng)
    whole = seed_study.summarise(pd.concat([a, b], ignore_index=True))
    pooled = seed_study.pool_aggregates(seed_study.summarise(a), seed_study.summarise(b), ["headline"], "seeds")
    assert (pooled["seeds"] == 70).all()
    for col in ["power", "mean_estimate", "mean_truth", "bias", "bias_mcse", "sd_estimate", "mean_se", "mean_mde_80",
                "coverage_95", "coverage_mcse"]:
        # exact algebra: equal up to floating-point rounding
        assert pooled[col].to_numpy() == pytest.approx(whole[col].to_numpy(), rel=1e-12, abs=1e-15), col
