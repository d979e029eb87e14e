"""Rules of the person-month panel: every definition the panel code applies, in one place.

The texts ``RULES_TEXT_DA`` and ``RULES_TEXT_EN`` are written to be quoted verbatim in the report appendix;
they describe the defaults of ``PanelRules``. The code in ``pipeline.panel.build`` / ``pipeline.panel.yearly``
implements exactly these rules (the tests in ``tests/test_panel*.py`` check them on hand-made data).

Monthly variables (one row per person and calendar month)

* Month of a week: a DREAM week (ISO week) belongs to the calendar month of its Thursday, so a month has
  4 or 5 weeks (``weeks_in_month``); ISO week 53 of 2015 (Thursday 31 Dec 2015) is December 2015, the week
  of Monday 29 Feb 2016 is March 2016. Only months whose weeks are all present are in the panel.
* ``dominant_code``: the DREAM code with most weeks in the month; a blank week counts as code 0 ("no
  benefit"). Ties: among the tied codes the one that occurs in the latest week of the month wins.
  ``category`` is that code's category from ``dream_codes.csv`` (``no_benefit`` for code 0).
* ``benefit_weeks``: number of weeks with a code flagged ``public_benefit`` in ``dream_codes.csv``.
* ``subsidised_job``: 1 if at least one week has a løntilskud code (activity wage_subsidy_private or
  wage_subsidy_public, in any benefit block), else 0.
* ``internship``: 1 if at least one week has a virksomhedspraktik code (activity internship_private or
  internship_public, any block), else 0.
* ``paid_hours``: sum of ``AJO_INDBERETTEDE_LOENTIMER`` over all the person's jobs (eIndkomst records) with
  ``MAANED`` = the month; 0 if there is no record; missing for months before eIndkomst starts (Jan 2008).
  Hours are summed as reported (a negative correction reduces the sum).
* ``employed`` (ordinary, unsubsidised employment): 1 if ``paid_hours`` > 0 AND no week of the month has a
  løntilskud code AND no week has the fleksjob code 771; else 0. Other benefit weeks in the same month (e.g.
  supplementary dagpenge, sygedagpenge) do not rule out employment. Missing when ``paid_hours`` is missing.
* ``self_supporting``: 1 if no week of the month has a public-benefit code, else 0 (blank weeks, SU,
  barselsdagpenge and feriedagpenge from employment are not public benefits in the code list).
* Censoring: ``censored`` is True in a month if at least one of its weeks has a censoring code (997 not
  resident/emigrated, 998 folkepension, 999 dead). Emigration can end, so a person who returns is observed
  again from the first month without a censoring week. In censored months all outcomes (``benefit_weeks``,
  ``subsidised_job``, ``internship``, ``paid_hours``, ``employed``, ``self_supporting``) are missing, not 0.
  ``censored_from`` (per person, ``censoring_start``) is the first month with a censoring week in the weeks
  given.

Yearly variables (per person and calendar year, ``yearly_indicators``)

* ``subsidised_job``, ``internship``, ``employed``: 1 if the monthly indicator is 1 in at least one
  non-missing month of the year (i.e. at least one week of løntilskud / virksomhedspraktik in the year, at
  least one month of ordinary employment), 0 if it is 0 in all non-missing months, missing if all months of
  the year are missing.
* ``subsidised_or_internship``: 1 if at least one week in the year has a løntilskud or a virksomhedspraktik
  code (the union, so a person with both counts once), as in the CFBU/BL annual counts.
* ``paid_hours``: sum of the monthly paid hours over the non-missing months; missing if none.
* ``months_observed``: number of months of the year in the panel that are not censored.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.codes import N_CODES, DreamCodeLookup

# Bits of the per-code flag byte (one np.take / fancy index gives all flags of a week at once).
PUBLIC_BENEFIT = np.uint8(1)
WAGE_SUBSIDY = np.uint8(2)  # løntilskud
INTERNSHIP = np.uint8(4)  # virksomhedspraktik
FLEXJOB = np.uint8(8)  # fleksjob
CENSORING = np.uint8(16)  # 997 / 998 / 999
UNKNOWN_CODE = np.uint8(128)  # value not in dream_codes.csv (validation only)

FLEXJOB_CODES: tuple[int, ...] = (771,)
EINDKOMST_FIRST_MONTH = 200801  # eIndkomst (BFL) exists from January 2008

# Columns of the monthly panel that are outcomes (missing in censored months).
OUTCOME_COLUMNS = ("benefit_weeks", "subsidised_job", "internship", "paid_hours", "employed", "self_supporting")


@dataclass(frozen=True)
class PanelRules:
    """Parameters of the panel rules (defaults = the texts above)."""

    flexjob_codes: tuple[int, ...] = FLEXJOB_CODES
    eindkomst_first_month: int = EINDKOMST_FIRST_MONTH  # months before this have missing paid hours
    eindkomst_last_month: int | None = None  # months after this have missing paid hours (None = open)


def flag_lookup(codes: DreamCodeLookup, rules: PanelRules | None = None) -> np.ndarray:
    """uint8 array (length 1000) with the flag bits of each DREAM code."""
    rules = rules or PanelRules()
    bits = np.zeros(N_CODES, dtype=np.uint8)
    bits[codes.public_benefit] |= PUBLIC_BENEFIT
    bits[codes.wage_subsidy] |= WAGE_SUBSIDY
    bits[codes.internship] |= INTERNSHIP
    bits[codes.mask(rules.flexjob_codes)] |= FLEXJOB
    bits[codes.censoring] |= CENSORING
    bits[~codes.known] |= UNKNOWN_CODE
    bits.setflags(write=False)
    return bits


RULES_TEXT_EN = (
    "The person-month panel is built from the weekly DREAM codes and the monthly eIndkomst job records. "
    "A DREAM week (ISO week) belongs to the calendar month of its Thursday, so a month has four or five weeks. "
    "The dominant code of a month is the code with most weeks (a blank week counts as 'no benefit'); ties go "
    "to the code of the latest week. Benefit weeks are weeks with a code flagged as public benefit in the code "
    "list. A month counts as subsidised employment (løntilskud) or internship (virksomhedspraktik) if at least "
    "one week has such a code, whatever the benefit. Paid hours are the sum of reported paid hours "
    "(AJO_INDBERETTEDE_LOENTIMER) over all jobs in the month, 0 without a job, and missing before eIndkomst "
    "starts in January 2008. Ordinary employment means paid hours above 0 in the month and no week with "
    "løntilskud or fleksjob (code 771) in that month. A month is self-supporting if no week has a "
    "public-benefit code. A month is censored if a week has code 997 (emigrated), 998 (folkepension) or 999 "
    "(dead); all outcomes are missing in censored months, and a person who returns from abroad is followed "
    "again. Yearly measures count a person once if the event occurs in at least one week or month of the "
    "calendar year (løntilskud or virksomhedspraktik together counted once); yearly paid hours are the sum "
    "over the uncensored months."
)

RULES_TEXT_DA = (
    "Person-måned-panelet dannes af de ugentlige DREAM-koder og de månedlige jobindberetninger i eIndkomst. "
    "En DREAM-uge (ISO-uge) hører til den kalendermåned, som ugens torsdag ligger i, så en måned har fire "
    "eller fem uger. Månedens dominerende kode er den kode, der optræder i flest uger (en blank uge tæller som "
    "'ingen ydelse'); ved lighed vælges koden fra den seneste uge. Ydelsesuger er uger med en kode, der i "
    "kodelisten er markeret som offentlig forsørgelse. En måned tæller som løntilskud eller "
    "virksomhedspraktik, hvis mindst én uge har en sådan kode, uanset ydelse. Løntimer er summen af "
    "indberettede løntimer (AJO_INDBERETTEDE_LOENTIMER) over alle job i måneden, 0 uden job, og uoplyst før "
    "eIndkomst begynder i januar 2008. Ordinær beskæftigelse betyder løntimer over 0 i måneden og ingen uge "
    "med løntilskud eller fleksjob (kode 771) i samme måned. En måned er selvforsørget, hvis ingen uge har en "
    "kode for offentlig forsørgelse. En måned er censureret, hvis en uge har kode 997 (udvandret), 998 "
    "(folkepension) eller 999 (død); alle udfald er uoplyste i censurerede måneder, og en person, der vender "
    "tilbage fra udlandet, følges igen. Årlige mål tæller en person én gang, hvis hændelsen forekommer i "
    "mindst én uge eller måned i kalenderåret (løntilskud og virksomhedspraktik tilsammen tælles én gang); "
    "årlige løntimer er summen over de ikke-censurerede måneder."
)
