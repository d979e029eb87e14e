"""Number formatting for reports: Danish by default (decimal comma, "." as thousands separator,
"12,3 %", "pct.-point"), English with ``lang="en"``.

All functions return plain strings and are pure; a missing value (None/NaN) prints as ``MISSING``
and a value suppressed by disclosure control is printed by the caller as ``SUPPRESSED``.
"""

from __future__ import annotations

import math

MINUS = "\u2212"          # typographic minus sign
NBSP = "\u00a0"           # non-breaking space (between a number and its unit)
MISSING = "\u2013"        # en dash: not available / not applicable
SUPPRESSED = "x"          # suppressed for confidentiality (see the table notes)

LANGS = ("da", "en")


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"language must be one of {LANGS}, not {lang!r}")
    return lang


def is_missing(x) -> bool:
    if x is None:
        return True
    try:
        return bool(math.isnan(float(x)))
    except (TypeError, ValueError):
        return False


def num(x, decimals: int = 1, lang: str = "da", sign: bool = False) -> str:
    """``1234.56 -> "1.234,6"`` (da) / ``"1,234.6"`` (en). A value that rounds to zero has no sign."""
    check_lang(lang)
    if is_missing(x):
        return MISSING
    x = float(x)
    s = f"{abs(x):,.{decimals}f}"
    if lang == "da":
        s = s.replace(",", "\0").replace(".", ",").replace("\0", ".")
    rounded_zero = float(f"{abs(x):.{decimals}f}") == 0.0
    if x < 0 and not rounded_zero:
        return MINUS + s
    if sign and x > 0 and not rounded_zero:
        return "+" + s
    return s


def integer(n, lang: str = "da") -> str:
    """A count: ``2031 -> "2.031"`` (da) / ``"2,031"`` (en)."""
    return num(n, 0, lang)


def pct(share, decimals: int = 1, lang: str = "da") -> str:
    """A share as per cent: ``0.123 -> "12,3 %"`` (da, with a non-breaking space) / ``"12.3%"`` (en)."""
    if is_missing(share):
        return MISSING
    return num(100 * float(share), decimals, lang) + (NBSP + "%" if lang == "da" else "%")


def pp_number(diff, decimals: int = 1, lang: str = "da", sign: bool = False) -> str:
    """A difference of shares in percentage points, number only: ``0.02 -> "2,0"``."""
    if is_missing(diff):
        return MISSING
    return num(100 * float(diff), decimals, lang, sign=sign)


def pp_unit(lang: str = "da", plural: bool = True) -> str:
    if lang == "da":
        return "pct.-point"
    return "percentage points" if plural else "percentage point"


def pp(diff, decimals: int = 1, lang: str = "da", sign: bool = False) -> str:
    """``0.02 -> "2,0 pct.-point"`` / ``"2.0 percentage points"``."""
    if is_missing(diff):
        return MISSING
    value = 100 * float(diff)
    plural = not (lang == "en" and abs(round(value, decimals)) == 1)
    return pp_number(diff, decimals, lang, sign) + NBSP + pp_unit(lang, plural)


def hours(h, decimals: int = 1, lang: str = "da", sign: bool = False) -> str:
    if is_missing(h):
        return MISSING
    unit = "timer" if lang == "da" else "hours"
    if abs(round(float(h), decimals)) == 1:
        unit = "time" if lang == "da" else "hour"
    return num(h, decimals, lang, sign) + NBSP + unit


def effect_number(x, unit: str, decimals: int = 1, lang: str = "da", sign: bool = False) -> str:
    """An effect or CI bound in its display unit (pct.-point for shares, hours for hours), number only."""
    if unit == "share":
        return pp_number(x, decimals, lang, sign)
    return num(x, decimals, lang, sign)


def effect_with_unit(x, unit: str, decimals: int = 1, lang: str = "da", sign: bool = False) -> str:
    if unit == "share":
        return pp(x, decimals, lang, sign)
    if unit == "hours":
        return hours(x, decimals, lang, sign)
    return num(x, decimals, lang, sign)


def level(x, unit: str, decimals: int = 1, lang: str = "da") -> str:
    """A level (mean) in its unit: shares as per cent, hours as a number."""
    if unit == "share":
        return pct(x, decimals, lang)
    return num(x, decimals, lang)


def ci(lo, hi, unit: str = "share", decimals: int = 1, lang: str = "da") -> str:
    """A confidence interval for tables: ``"[1,1; 2,9]"`` (da: semicolon, the comma is the decimal sign)
    / ``"[1.1, 2.9]"`` (en)."""
    if is_missing(lo) or is_missing(hi):
        return MISSING
    sep = "; " if lang == "da" else ", "
    return "[" + effect_number(lo, unit, decimals, lang) + sep + effect_number(hi, unit, decimals, lang) + "]"


def ci_words(lo, hi, unit: str = "share", decimals: int = 1, lang: str = "da") -> str:
    """A confidence interval for running text: ``"1,1 til 2,9 pct.-point"`` / ``"1.1 to 2.9 percentage points"``."""
    if is_missing(lo) or is_missing(hi):
        return MISSING
    word = " til " if lang == "da" else " to "
    return effect_number(lo, unit, decimals, lang) + word + effect_with_unit(hi, unit, decimals, lang)


def stars(p) -> str:
    """``*`` p < 0.05, ``**`` p < 0.01, ``***`` p < 0.001."""
    if is_missing(p):
        return ""
    p = float(p)
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def pvalue(p, lang: str = "da") -> str:
    """``0.0342 -> "0,034"``, ``0.63 -> "0,63"`` (two decimals from 0.1); below 0.001 ``"< 0,001"``."""
    if is_missing(p):
        return MISSING
    p = float(p)
    if p < 0.001:
        return "<" + NBSP + num(0.001, 3, lang)
    return num(p, 2 if p >= 0.0995 else 3, lang)


def significance(lo, hi) -> int:
    """+1 if the CI lies above zero, -1 if below, 0 if it covers zero (or is missing)."""
    if is_missing(lo) or is_missing(hi):
        return 0
    if float(lo) > 0:
        return 1
    if float(hi) < 0:
        return -1
    return 0


def round_persons(x) -> int | None:
    """Extra persons as published: nearest whole person below 100, nearest 10 from 100."""
    if is_missing(x):
        return None
    x = float(x)
    return int(round(x, -1)) if abs(x) >= 100 else int(round(x))


NUMBER_WORDS = {
    "da": ["nul", "én", "to", "tre", "fire", "fem", "seks", "syv", "otte", "ni", "ti", "elleve", "tolv"],
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"],
}


def count_words(n: int, lang: str = "da") -> str:
    """Small counts in words (as in running text): 6 -> "seks"; above twelve as digits."""
    words = NUMBER_WORDS[check_lang(lang)]
    return words[n] if 0 <= n < len(words) else integer(n, lang)


MONTHS = {
    "da": ["januar", "februar", "marts", "april", "maj", "juni", "juli", "august", "september", "oktober",
           "november", "december"],
    "en": ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"],
}


def month_name(yyyymm: int, lang: str = "da") -> str:
    """``200903 -> "marts 2009"`` / ``"March 2009"``."""
    y, m = divmod(int(yyyymm), 100)
    return f"{MONTHS[check_lang(lang)][m - 1]} {y}"
