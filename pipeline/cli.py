"""Command line: run the pipeline's stages without DVC, choose a study, override parameters.

    fremskudt run                       # all stages for every study in params.yaml
    fremskudt run --study jobgaranti_2017 --set estimation.post_window=[0,23]
    fremskudt run --stage estimate      # one stage (its inputs must exist)
    fremskudt stages                    # list the stages
    fremskudt validate                  # ingest only: read and validate the register files

`dvc repro` runs the same stages with caching; use the command line for quick experiments. User mistakes
(unknown study, bad parameter, invalid data, a design without treated or comparison persons) and an output that
cannot be written (disk full, read-only folder: `cannot write <path>: <reason>`) give a one-line error and exit
code 2; any other error a one-line message (at most 300 characters) and exit code 1; `--debug` shows the
traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import traceback

import yaml

from pipeline import logs
from pipeline.config import UserError, load_params, restrict_to_studies

STAGES = ["synthesize", "ingest", "panel", "cohorts", "match", "estimate", "report", "export"]
STAGE_HELP = {
    "synthesize": "synthetic registers with known true effects (skipped when data.source is not 'synthetic')",
    "ingest": "read, map and validate the register files against data_schema/",
    "panel": "person-month outcome panel from DREAM weeks and eIndkomst hours",
    "cohorts": "treated and comparison cohorts with baseline covariates",
    "match": "propensity-score matching and balance",
    "estimate": "matched DiD, event study, ATT(g,t), contrasts and robustness",
    "report": "tables, figures and the PDF report",
    "export": "copy what passes disclosure control to reports/export",
}


def parse_value(text: str):
    """A --set value as YAML (numbers, lists, booleans), falling back to the plain string."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def parse_overrides(items: list[str]) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise UserError(f"--set {item!r}: write key=value, e.g. --set synth.n_persons=20000")
        key, value = item.split("=", 1)
        out[key.strip()] = parse_value(value)
    return out


def effective_params(params_path: str, study: str | None, overrides: dict) -> tuple[dict, dict]:
    """(params for data stages, params for study stages): --study keeps only that study for the latter."""
    params = load_params(params_path, overrides)
    per_study = dict(params)
    if study:
        if study not in params.get("studies", {}):
            raise UserError(f"unknown study {study!r}; known studies: {', '.join(sorted(params.get('studies', {})))}")
        per_study = {**restrict_to_studies(params, {study}), "study": study}
    return params, per_study


def run_stage(name: str, params: dict) -> None:
    """Run stage ``name`` on the validated ``params`` in this process (its ``run(settings)``); the export
    stage's refusal of a file ends the program with its exit status 1."""
    module = importlib.import_module(f"pipeline.stages.{name}")
    code = module.run(params)
    if name == "export" and code:
        raise SystemExit(code)


def cmd_run(args) -> int:
    logs.configure(logs.verbosity(args))
    data_params, study_params = effective_params(args.params, args.study, parse_overrides(args.set))
    stages = [args.stage] if args.stage else STAGES
    for i, name in enumerate(stages, 1):
        t0 = time.perf_counter()
        print(f"[{i}/{len(stages)}] {name}: {STAGE_HELP[name]}", flush=True)
        run_stage(name, data_params if name in ("synthesize", "ingest", "panel") else study_params)
        print(f"[{i}/{len(stages)}] {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
    from pipeline.stages import where

    where.main()
    return 0


def cmd_stages(_args) -> int:
    for name in STAGES:
        print(f"{name:<11} {STAGE_HELP[name]}")
    return 0


def cmd_validate(args) -> int:
    logs.configure(logs.verbosity(args))
    params, _ = effective_params(args.params, None, parse_overrides(args.set))
    run_stage("ingest", params)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="fremskudt", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="Stages: " + ", ".join(STAGES) + ". See README.md and docs/guide.md.")
    p.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run all stages (or one) for the studies in params.yaml",
                         description="Run the pipeline's stages in order, without DVC's caching.")
    run.add_argument("--params", default="params.yaml", help="parameter file (default params.yaml)")
    run.add_argument("--study", help="evaluate only this study (a block of `studies` in params.yaml)")
    run.add_argument("--stage", choices=STAGES, help="run only this stage (its inputs must exist)")
    run.add_argument("--set", action="append", metavar="KEY=VALUE",
                     help="override a parameter, e.g. --set synth.n_persons=20000 (repeatable)")
    logs.add_arguments(run)
    run.set_defaults(func=cmd_run)
    st = sub.add_parser("stages", help="list the stages and what they do")
    st.set_defaults(func=cmd_stages)
    va = sub.add_parser("validate", help="read and validate the register files (the ingest stage)")
    va.add_argument("--params", default="params.yaml")
    va.add_argument("--set", action="append", metavar="KEY=VALUE")
    logs.add_arguments(va)
    va.set_defaults(func=cmd_validate)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UserError as err:
        if args.debug:
            traceback.print_exc()
        print(f"fremskudt: error: {str(err).splitlines()[0] if not args.debug else err}", file=sys.stderr)
        rest = str(err).splitlines()[1:]
        for line in rest:
            print(line, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fremskudt: interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # an internal error: short message unless --debug
        if args.debug:
            traceback.print_exc()
            return 1
        from pipeline.stages.common import environment_error, missing_input, short_message

        # disk full, quota, read-only or no permission outside pipeline.atomic; an input an earlier stage makes
        msg = environment_error(err) or missing_input(err)
        if msg:
            print(f"fremskudt: error: {msg}", file=sys.stderr)
            return 2
        print(f"fremskudt: internal error: {short_message(f'{type(err).__name__}: {err}')} "
              "(run with --debug for the traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
