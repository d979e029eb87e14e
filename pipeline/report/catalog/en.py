"""English wording of the report: headings, fixed sentences, captions and alt texts, keyed by a short id.

Placeholders (``{name}``) are filled by :func:`pipeline.report.catalog.tr` with values already formatted in
Python (numbers by :mod:`pipeline.report.fmt`, names by :mod:`pipeline.report.labels`). The same keys exist
in :mod:`pipeline.report.catalog.da`.
"""

TEXT: dict[str, str] = {
    # ---- document frame and cover ----------------------------------------------------------------
    "doc.subtitle": "Register-based impact evaluation",
    "doc.toc": "Contents",
    "doc.page": "Page",
    "doc.of": "of",
    "doc.appendix": "Appendix",
    "cover.period": "Period: ",
    "cover.groups": "Programme group: {n_t} persons · comparison group: {n_c} persons",
    "cover.params": "Parameters: ",
    "cover.synthetic": "This report was produced on synthetic (simulated) data and is not about real persons.",
    "period.range": "{first} to {last}",
    "period.start": "start {start}",
    "period.pre": "; {months} months before",
    "period.follow_up": "; {months} months of follow-up",

    # ---- words and phrases used inside sentences -------------------------------------------------
    "w.and": "and",
    "w.or": "or",
    "w.about": "about ",
    "w.also": "also ",
    "w.more_persons": "more",
    "w.fewer_persons": "fewer",
    "w.higher": "higher",
    "w.lower": "lower",
    "w.positive": "positive",
    "w.negative": "negative",
    "w.raised_number": "raised",
    "w.lowered_number": "lowered",
    "w.more_amount": "more",
    "w.less_amount": "fewer",
    "target_group.default": "the target group",
    "when.during_year": " during a year",
    "when.per_year": " per year",
    "when.months_after": " {month} months after the start",
    "ci.prefix": "95% CI: ",
    "sig.yes": "statistically significant",
    "sig.no": "not statistically significant",
    "sig.above": "The difference is statistically significant: the whole 95% confidence interval lies above zero.",
    "sig.below": "The difference is statistically significant: the whole 95% confidence interval lies below zero.",
    "sig.none": "The difference is not statistically significant: the 95% confidence interval includes zero, so we "
                "cannot rule out that the programme had no effect on this outcome.",
    "pct_sign": "%",

    # ---- headline and outcome sentences ----------------------------------------------------------
    "headline.suppressed": "The main result cannot be shown because it rests on too few persons.",
    "headline.coarsened": "The pre-registered main result rests on too few persons to be published (disclosure "
                          "control). We therefore show the same outcome {how}.",
    "headline.coarsened.subgroup": "for everyone in the target group instead of the subgroup {subgroup}",
    "headline.coarsened.window": "as the mean over the whole follow-up instead of one month",
    "headline.hours": "After the start, {pop} had on average {treated} per month. Without the programme the number "
                      "would, by our estimate, have been {comparison}.",
    "headline.programme_years": "In the programme years {y0}–{y1}, on average {treated} of {pop} per year were "
                                "{phrase} at some point during the year. Our estimate of the share without the "
                                "programme is {comparison}.",
    "headline.yearly": "In the first {years} years after the start, on average {treated} of {pop} were {phrase} at some "
                       "point during a year. Without the programme the share would, by our estimate, have been "
                       "{comparison}.",
    "headline.at_month": "{month} months after the start, {treated} of {pop} were {phrase}. Without the programme the "
                         "share would, by our estimate, have been {comparison}.",
    "headline.after": "After the start, {treated} of {pop} were {phrase}. Without the programme the share would, by "
                      "our estimate, have been {comparison}.",
    "headline.raised": "Our best estimate is that the programme raised the {what} by {size} ({ci}).",
    "headline.lowered": "Our best estimate is that the programme lowered the {what} by {size} ({ci}).",
    "headline.what_share": "share",
    "headline.what_number": "number",
    "headline.difference": "With the programme the {what} was {size} {word} than without ({ci}).",
    "headline.what_count": "number",
    "headline.persons": "That corresponds to {extra} {more} persons {phrase}{when} among the {n_group} persons in the "
                        "programme group{per_year}.",
    "headline.per_year": " per year",
    "headline.primary": "This is the study's pre-specified main result, the only one we test as evidence of an effect. "
                        "Other outcomes and subgroups are secondary and describe patterns.",
    "headline.mde": "At this study's size we can only tell effects of at least {size} apart from zero: a true effect of "
                    "that size would come out statistically significant four times in five (minimum detectable effect "
                    "at 80% power and a 5% significance level).",
    "secondary.result": "Secondary result for {who}: {what} {size} ({ci}), {sig}{mde}.",
    "secondary.mde": "; minimum detectable effect {size}",
    "bullet.suppressed": "cannot be shown (too few persons).",

    # ---- seed study (synthetic data) -------------------------------------------------------------
    "seed.dir.below": "below",
    "seed.dir.above": "above",
    "seed.dir.away": "away from",
    "seed.flag": "Caution: in simulated data with a known true effect, the method's estimates for {outcomes} lie "
                 "systematically {direction} the true effect in this design (the seed study, see the appendix). These "
                 "results should not be given weight.",
    "seed.range": "{lo} to {hi}",
    "seed.no_bias": "none of the results has a bias larger than two Monte Carlo standard errors",
    "seed.bias": "{n} of the results have a bias of more than two Monte Carlo standard errors (see the table)",
    "seed.study": "The seed study repeats the whole analysis in {worlds} simulated worlds with new random numbers "
                  "(benchmarks/seed_study.py). The 95% confidence interval covers the true effect in {coverage} of the "
                  "worlds, and {tail}.",
    "seed.every_ok": "Of all {n} estimates in the report, none is systematically biased (bias above three Monte Carlo "
                     "standard errors).",
    "seed.every_flagged": "Of all {n} estimates in the report, {k} are systematically biased (bias above three Monte "
                          "Carlo standard errors): {items}. The method should not be relied on for these results in "
                          "this design.",

    # ---- robustness sentences used in the summary and the robustness chapter ----------------------
    "area.test": "The programme was given to whole housing areas, and there are few of them ({k} programme areas among "
                 "{g}). We therefore also tested the main result at area level: how often does the same estimate come "
                 "out as large when {k} randomly chosen areas of the {g} are treated as the programme areas instead? "
                 "The answer is p = {p}",
    "area.significant": ": the main result is statistically significant at area level too.",
    "area.not_significant": ": at area level the main result is not statistically significant, so differences between "
                            "housing areas cannot be ruled out as the explanation.",
    "area.neither": ": at area level the result is not statistically significant either.",
    "sensitivity.none": "The sensitivity analysis (Rambachan & Roth) shows that the result does not survive any "
                        "departure from parallel trends after the start: even a departure smaller than the largest "
                        "difference before the start could explain it.",
    "sensitivity.breakdown": "Sensitivity analysis (Rambachan & Roth): the effect stays statistically significant as "
                             "long as the departure from parallel trends after the start is at most {mbar} times the "
                             "largest change in the gap between the groups from one period to the next before the "
                             "start (the sensitivity figure shows the intervals). Since the matching uses the history "
                             "before the start, the changes before the start are small partly by construction; the "
                             "number is therefore an upper limit of how robust the result is.",

    # ---- summary ---------------------------------------------------------------------------------
    "h.summary": "Summary",
    "summary.intro": "This report examines whether outreach employment services – job-centre staff placed in deprived "
                     "housing areas – helped {who} closer to the labour market. ",
    "summary.cohort_years": "We draw the target group anew in each of the {k} programme years {y0}–{y1}: {n_t} "
                            "person-years in all in the {k_areas} housing areas with the programme (about {per_year} "
                            "persons a year), compared with {n_c} person-years in areas without it, matched year by "
                            "year on how alike the persons were before the start.",
    "summary.cohort": "We follow {n_t} persons in the target group in the {k_areas} housing areas with the programme "
                      "and compare them with {n_c} persons who resembled them before the start but lived in areas "
                      "without it.",
    "kf.with": "With the programme",
    "kf.without": "Without the programme (estimate)",
    "kf.difference": "Difference",
    "h.main_result": "Main result",
    "h.all_outcomes": "All outcomes",
    "summary.all_outcomes": "Effects for {who}, estimated by {method}{tail}",
    "summary.all_outcomes.mixed": " (where an outcome was estimated differently, the method is given in brackets):",
    "summary.all_outcomes.plain": ":",
    "h.meaning": "What does it mean?",
    "meaning.fewer_than_one": "fewer than one",
    "meaning.persons_in_target": "persons in the target group",
    "meaning.per100": "Out of 100 {who}, {per100} {more} were {phrase} because of the programme. The effect is in "
                      "percentage points: {pp} is a difference in the share, not a relative increase of {relative}.",
    "meaning.hours": "As a secondary result, we estimate that the programme {also}{verb} {what}: on average {size} "
                     "{more} per person ({ci}).",
    "meaning.share": "As a secondary result, we {also}find a statistically significant {sign} effect on {what}: {size} "
                     "({ci}){tail}",
    "meaning.share.up": ".",
    "meaning.share.down": ", i.e. the share was lower with the programme than without.",
    "meaning.no_effect": "We find no statistically significant effect on {outcomes}. This does not show that there is "
                         "no effect, only that any effect is too small to distinguish from random variation.",
    "meaning.no_effect.conj": "or",
    "meaning.see_results": "See the results chapter for details.",
    "h.how_sure": "How sure are we?",
    "sure.design": "The effects are estimated by comparing with persons who resembled the participants before the start "
                   "but lived in housing areas without the programme. The result can be read as the programme's effect "
                   "if the two groups would have developed alike without it.",
    "sure.pretrend_ok": "Before the start there is no sign that the groups developed differently (test of parallel "
                        "trends: p = {p}). That does not prove the assumption: the matching uses the history before "
                        "the start, so the groups resemble each other before the start partly by construction, a test "
                        "before the start can miss differences, and it says nothing about the period after the start.",
    "sure.pretrend_weak": "The test of parallel trends before the start gives p = {p}: no statistically significant "
                          "difference, but a weak sign of different trends.",
    "sure.pretrend_bad": "Before the start the groups developed differently (test of parallel trends: p = {p}), so the "
                         "result must be read with caution.",
    "sure.methods_same": "Other estimation methods for the same outcome and period – {methods} – give the same effect: "
                         "{size}.",
    "sure.methods_range": "Other estimation methods for the same outcome and period – {methods} – give effects between "
                          "{lo} and {hi}.",
    "sure.unmeasured": "Differences the registers do not measure – such as motivation or health – cannot be taken into "
                       "account.",
    "synthetic.callout": "Synthetic data: this report was produced on synthetic (simulated) register data to "
                         "demonstrate the method. The numbers are not about real persons. Because the true effects are "
                         "known, the appendix compares the estimates with them.",

    # ---- the programme ---------------------------------------------------------------------------
    "h.programme": "The programme",
    "programme.intro": "Outreach employment services move the job centre's work out into the housing area. Staff have "
                       "the same statutory role as in the job centre, and citizens have the same rights and duties. The "
                       "difference is that the service is close to where people live, often with drop-in counselling, "
                       "and that staff have more time for each person and can work with local partners on problems "
                       "with health, housing, finances and family. The first aim is to bring unemployed persons closer "
                       "to the labour market, e.g. into internships or wage-subsidised jobs, and in the longer run into "
                       "ordinary work or education.",
    "programme.areas": "In this evaluation the programme ran in {k_areas} deprived housing areas. ",
    "programme.start_one": "The programme started in {month} in all {k_areas} areas",
    "programme.start_staggered": "The areas started at different times between {first} and {last}",
    "programme.end": ", and the evaluation covers the programme up to and including {month}.",
    "programme.end_open": ".",
    "programme.target": "The target group is {who}. They are compared with {comparison}.",
    "programme.comparison_default": "similar persons without the programme",

    # ---- data and method -------------------------------------------------------------------------
    "h.method": "Data and method",
    "h.data": "Data",
    "method.data": "The analysis uses registers from Statistics Denmark: the population register (BEF: age, sex, "
                   "origin and address), DREAM (weekly public benefits, including wage subsidies and internships), "
                   "eIndkomst (paid hours per month) and the education register. Persons are pseudonymised, and the "
                   "report contains only numbers for groups.",
    "method.data_synthetic": "Here the registers are replaced by synthetic data with the same layout.",
    "h.who_included": "Who is included",
    "method.cohort": "We follow a fixed group (cohort) of persons selected by their address and situation at the start "
                     "(the reference date). Persons in the comparison group get the same reference date. Moves into and "
                     "out of the areas after the start therefore do not change who is compared. The table shows the "
                     "selection step by step.",
    "h.matching": "Matching and balance",
    "method.matching": "To compare with persons who resembled the participants before the start, we estimate for each "
                       "person the probability of living in a programme area from the background variables (a "
                       "propensity score) and find for each participant the most similar persons in the comparison "
                       "group.",
    "method.balance_max": "Before matching the largest standardised difference was {before}; after matching {after}",
    "method.balance_ok": " – below the usual threshold of 0.1 for good balance.",
    "method.balance_over": ". {n} variables are above the threshold of 0.1, so balance is not fully satisfactory.",
    "method.balance_example": "For example: in the year before the start the participants had on average been in "
                              "ordinary employment {treated} months against {control} in the whole comparison group; "
                              "the matched comparison group had {matched} months.",
    "method.subgroup_balance": "Subgroup results compare persons within the same subgroup only. Within the subgroups "
                               "the largest standardised difference after matching is {smd} ({subgroup}, "
                               "{covariate}){tail}",
    "method.subgroup_balance.ok": " – below the threshold of 0.1.",
    "method.subgroup_balance.weak": "; the subgroup results therefore rest on somewhat weaker balance than the result "
                                    "for the whole target group.",
    "method.overlap": "The figure below shows the distribution of the propensity score. Matching can only find good "
                      "comparison persons where the two distributions overlap.",
    "h.estimation": "How the effect is estimated",
    "method.methods": "The main method is {method}. Methods in this report:",
    "method.uncertainty": "Uncertainty is given as a 95% confidence interval. Intervals computed this way contain the "
                          "true effect in 95% of cases if the method's assumptions hold. A result is called "
                          "statistically significant when the whole interval is on one side of zero. The standard "
                          "errors allow for the same person being followed over many months; the details are in the "
                          "appendix.",

    # ---- results ---------------------------------------------------------------------------------
    "h.results": "Results",
    "results.headline": "The table shows the main result in the form used in the original evaluation.",
    "results.effects": "The next table shows the effects on all outcomes with standard errors, confidence intervals "
                       "and numbers of persons.",
    "h.month_by_month": "Month by month",
    "results.means": "The figure shows the outcome for the programme group and the matched comparison group month by "
                     "month from three years before to three years after the start. The gap between the lines after "
                     "the start, beyond the gap before the start, is the effect.",
    "h.over_time": "The effect over time",
    "results.event_study": "The event-study figures show the estimated effect for each month relative to the month "
                           "before the start, with the 95% confidence interval (dark) and, where computed, a uniform "
                           "95% confidence band for the whole path (light). Before the start the estimates should be "
                           "around zero.",

    # ---- subgroups -------------------------------------------------------------------------------
    "h.subgroups": "Subgroups",
    "subgroups.none": "No subgroup effects were estimated.",
    "subgroups.intro": "The table shows the effects for subgroups of the target group, estimated with the main "
                       "method. ",
    "subgroups.significant": "For {outcome} the effect is statistically significant for {subgroups}. ",
    "subgroups.none_significant": "For {outcomes} none of the subgroup effects is statistically significant. ",
    "subgroups.caveat": "Subgroups are smaller than the whole group, so uncertainty is larger. A difference between two "
                        "subgroups is only established if it is itself tested; and when many subgroups are examined, "
                        "some results will be significant by chance.",

    # ---- robustness ------------------------------------------------------------------------------
    "h.robustness": "Robustness",
    "robustness.intro": "We check whether the result holds when the assumptions are challenged: (1) did the groups "
                        "move together before the start? (2) do we find an 'effect' of a false start date, where there "
                        "can be none? (3) do other estimation methods give the same result?",
    "rob.pretrend_ok": "Parallel trends before the start ({outcome}): no sign of different trends (p = {p}).",
    "rob.pretrend_bad": "Parallel trends before the start ({outcome}): the trends differ (p = {p}) – read with "
                        "caution.",
    "rob.placebo_ok": "Placebo ({outcome}): {estimate}not significant, as expected.",
    "rob.placebo_bad": "Placebo ({outcome}): {estimate}significant – a warning sign.",
    "rob.area": "Main result at area level ({outcome}): p = {p} (randomization inference over which areas are "
                "programme areas).",
    "rob.rest_ok_one": "The other outcome ({outcomes}): no warning signs in the parallel-trend and placebo tests.",
    "rob.rest_ok_many": "The other outcomes ({outcomes}): no warning signs in the parallel-trend and placebo tests.",
    "rob.rest_pretrend": "different trends before the start for {outcomes}",
    "rob.rest_placebo": "a significant placebo effect for {outcomes}",
    "rob.rest_bad": "The other outcomes: {problems} – the effects on these outcomes must be read with caution.",
    "robustness.estimators": "The table below compares the methods for the main outcome. The naive comparison does not "
                             "account for differences between the groups and is shown only for comparison.",

    # ---- appendix: definitions -------------------------------------------------------------------
    "h.definitions": "Definitions",
    "def.target_group": "Target group",
    "def.outcomes": "Outcomes",
    "def.population": "Population",
    "def.comparison": "Comparison group",
    "def.covariates": "Covariates",
    "h.outcomes_spells": "Outcomes and spells",
    "appx.no_definitions": "The definitions were not given by the estimation stage.",
    "h.dream_codes": "DREAM codes used",
    "dream.note": "The codes are DREAM's weekly benefit codes; the code list with meanings is in "
                  "data_schema/codes/dream_codes.csv.",
    "dream.caption": "DREAM codes used",
    "dream.col_use": "Use",
    "dream.col_codes": "Codes",
    "dream.target": "Target group: ",
    "dream.wage_subsidy": "Wage subsidy (løntilskud)",
    "dream.internship": "Internship (virksomhedspraktik)",
    "dream.flexjob": "Flex job (not ordinary employment)",
    "dream.public": "Public benefits (self-supporting = none of these in the month)",
    "dream.censoring": "Censoring (emigrated, state pension, dead)",
    "appx.not_stated": "Not stated.",

    # ---- appendix: estimation and software -------------------------------------------------------
    "h.software": "Estimation and software",
    "h.estimation_choices": "Estimation choices",
    "h.se": "Standard errors and inference",
    "appx.dependence": "Dependence: a treated person and the comparison person matched to them belong together (a "
                       "matched pair). A person who appears more than once – a comparison person matched at several "
                       "reference dates, a person in the target group in several programme years – makes the pairs "
                       "they appear in dependent. The standard errors allow for both: the variance sums over the "
                       "matched pairs and over every two pairs that share a person (see the convention of each method "
                       "below); the main result is also tested at area level (randomization inference over the "
                       "programme areas).",
    "h.software_params": "Software and parameters",
    "software.caption": "Software versions",
    "software.col_package": "Package",
    "software.col_version": "Version",
    "appx.params_hash": "Parameter hash (params.yaml): ",
    "appx.version": ". The report was produced by fremskudt-eval {version}. The same parameters and data give the same "
                    "report byte for byte.",

    # ---- appendix: disclosure control ------------------------------------------------------------
    "h.disclosure": "Disclosure control",
    "appx.disclosure": "No number in the report rests on fewer than {min_cell} persons. Cells with fewer persons are "
                       "suppressed (shown as x), and where a suppressed number could be recovered from totals or other "
                       "numbers, further cells are suppressed (secondary suppression): by linear programming over every "
                       "relation between the published numbers (subgroups adding up to all, the "
                       "difference-in-differences arithmetic, yearly against monthly shares) no suppressed number can "
                       "be narrowed to less than {min_cell} persons or {relative_pct}% of its value. Hours are "
                       "suppressed when {dominance_n} persons account for more than {dominance_pct}% of the total. "
                       "Histogram bins with few persons are merged with their neighbour, and points in figures rest on "
                       "at least {min_cell} persons. The report contains no minima or maxima and no personal data. In "
                       "total {n_suppressed} cells or points were suppressed or merged.",

    # ---- appendix: synthetic data ----------------------------------------------------------------
    "h.truth": "Synthetic data: estimates and true effects",
    "appx.truth": "The data generator simulates each treated person's path both with and without the programme, so the "
                  "true effect is known. The true effect in the table is the average over exactly the treated persons "
                  "the estimate rests on (the matched treated; all treated for the simple comparisons). In this single "
                  "run {n_covered} of {n} 95% confidence intervals cover the true value. One run cannot show that the "
                  "method is right: only repeated runs on new data can.",
    "appx.no_seed_study": "No seed study is available for this study (benchmarks/seed_study.py summary --publish).",

    # ---- table captions (stage report) -----------------------------------------------------------
    "tab.effects": "All estimated effects",
    "tab.effects_main": "Effects on all outcomes",
    "tab.effects_main.method": " ({method})",
    "tab.effects_subgroups": "Effects by subgroup ({method})",
    "tab.effects_estimators": "Effects by method (whole target group)",

    # ---- figure captions and alt texts (stage report) --------------------------------------------
    "fig.event_study.caption": "Effect on {what} by month relative to the start – {who}. Method: {method}",
    "fig.event_study.alt": "Event-study chart: estimated effect on {what} for each month from {before} months before to {after} "
                           "months after the start, with confidence intervals.",
    "fig.means.caption": "{what} in the programme group and the matched comparison group, by month – {who}",
    "fig.means.alt": "Line chart: {what} for the programme and comparison groups from {before} months before to {after} months "
                     "after the start.",
    "fig.sensitivity.caption": "Sensitivity to the parallel-trends assumption (Rambachan & Roth): the main result's 95% "
                               "interval when the trends after the start may depart by up to M̄ times the largest "
                               "change before the start",
    "fig.sensitivity.alt": "Vertical intervals for the main result for increasing values of M̄; the grey interval at "
                           "the left is the original one.",
    "fig.love_plot.caption": "Balance before and after matching: absolute standardised difference by covariate",
    "fig.love_plot.alt": "Dot chart of standardised differences before and after matching.",
    "fig.overlap.caption": "Distribution of the propensity score in the programme group (above the axis) and the "
                           "comparison group (below)",
    "fig.overlap.alt": "Mirrored histogram of the propensity score for the two groups.",
}
