"""Lookup arrays from data_schema/codes (pipeline.codes) used by the panel and the target groups."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.codes import N_CODES, load_countries, load_dream_codes, western_country_codes


def test_dream_code_lookups():
    c = load_dream_codes()
    for arr in (c.known, c.public_benefit, c.censoring, c.wage_subsidy, c.internship, c.category_index):
        assert arr.shape == (N_CODES,)
    assert np.flatnonzero(c.wage_subsidy).tolist() == [
        135, 136, 145, 146, 215, 216, 705, 706, 715, 716, 725, 726, 735, 736, 745, 746, 755, 756, 765, 766,
        815, 816, 895, 896]
    assert np.flatnonzero(c.internship).tolist() == [
        137, 138, 147, 148, 217, 218, 707, 708, 717, 718, 727, 728, 737, 738, 747, 748, 757, 758, 767, 768,
        817, 818, 897, 898]
    assert np.flatnonzero(c.censoring).tolist() == [997, 998, 999]
    assert not c.public_benefit[[0, 121, 651, 652, 661, 881, 997]].any()
    assert c.public_benefit[[111, 130, 730, 771, 783, 890]].all()
    assert c.known[0] and not c.known[500] and not c.known[132]
    assert c.categories[c.category_index[0]] == "no_benefit"
    assert c.categories[c.category_index[500]] == "unknown"
    assert c.categories[c.category_index[737]] == "cash_benefit_activity"
    assert c.codes_where(blocks=["kontanthjaelp_aktivitetsparat"]).tolist() == [
        730, 731, 733, 734, 735, 736, 737, 738, 739]
    assert c.codes_where(blocks="integrationsloven", activities=["passive"]).tolist() == [710]
    assert c.mask([0, 771]).nonzero()[0].tolist() == [0, 771]
    with pytest.raises(ValueError):
        c.mask([1000])
    with pytest.raises(ValueError, match="not in dream_codes"):
        c.check_codes(np.array([[0, 130], [132, 0]], dtype=np.uint16))
    c.check_codes(np.array([[0, 130], [730, 999]], dtype=np.uint16))
    with pytest.raises(ValueError):
        c.public_benefit[0] = True  # read-only lookups


def test_countries():
    t = load_countries()
    w = set(western_country_codes(t).tolist())
    assert {5100, 5120, 5390}.issubset(w)
    assert not {5172, 5289, 5436, 5103}.intersection(w)
