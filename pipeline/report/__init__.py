"""Reports a policymaker reads and an analyst trusts.

Library (pure functions over DataFrames; no params, files only where a path is passed in):

* :mod:`pipeline.report.fmt`         Danish/English number formatting ("12,3 %", "2,0 pct.-point", stars)
* :mod:`pipeline.report.labels`      names of outcomes, subgroups, estimators, covariates (da/en)
* :mod:`pipeline.report.tables`      effects, headline (published form), balance, cohort flow, robustness,
  truth tables as CSV, HTML and booktabs LaTeX
* :mod:`pipeline.report.figures`     event study, means by month, Love plot, score overlap (PNG+SVG+sidecar)
* :mod:`pipeline.report.text`        the PDF report as a block document (:func:`~pipeline.report.text.build_document`)
* :mod:`pipeline.report.sections`    one function per chapter (summary, programme, data and method, results,
  subgroups, robustness, appendices), each returning a list of blocks
* :mod:`pipeline.report.catalog`     fixed wording, headings, captions and alt texts per language (``da``, ``en``)
* :mod:`pipeline.report.sentences`   sentences that depend on numbers (headline, intervals, tests, seed study)
* :mod:`pipeline.report.blocks`      Typst markup helpers and the block constructors
* :mod:`pipeline.report.captions`    captions and alt texts of figures and tables (from the catalogs)
* :mod:`pipeline.report.render`      Typst typesetting of that document (``templates/report.typ``)

The builders take data already protected by :mod:`pipeline.disclosure` and the run's one
:class:`pipeline.disclosure.policy.DisclosurePolicy`.

Stages: :mod:`pipeline.stages.report`, :mod:`pipeline.stages.export`.
"""
