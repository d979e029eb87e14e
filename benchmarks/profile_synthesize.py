"""Peak resident memory of the synthesize stage by phase, for N persons (default 250,000).

A sampling thread reads the process's RSS every 20 ms and keeps the maximum per phase; the phases are
marked by wrapping the generator's steps (population, calibration, chunk loop, the DREAM writer, the other
tables). Also prints the sizes of the arrays that grow with N. Runs in a temporary folder.

Usage: PYTHONPATH=. .venv/bin/python benchmarks/profile_synthesize.py [n_persons] [key=value ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def rss_mb() -> float:
    """Current resident set size of this process (MB)."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024**2


class Sampler(threading.Thread):
    """Keeps the maximum RSS seen while each phase label was current."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.phase = "start"
        self.peaks: dict[str, float] = {}
        self.stop = False

    def run(self) -> None:
        while not self.stop:
            r = rss_mb()
            self.peaks[self.phase] = max(self.peaks.get(self.phase, 0.0), r)
            time.sleep(0.02)


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv and "=" not in argv[0] else 250_000
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["synth"]["n_persons"] = n
    for kv in [a for a in argv if "=" in a]:
        key, value = kv.split("=", 1)
        node = params
        *head, last = key.split(".")
        for k in head:
            node = node[k]
        node[last] = yaml.safe_load(value)
    from pipeline.config import load_params
    from pipeline.stages import synthesize
    from pipeline.synth import generate as G

    s = Sampler()
    sizes: dict[str, float] = {}

    def phase(name: str, fn):
        def wrapped(*a, **k):
            prev, s.phase = s.phase, name
            out = fn(*a, **k)
            if name == "population":
                pop = out
                sizes["population arrays"] = sum(v.nbytes for v in pop.__dict__.values() if hasattr(v, "nbytes")) / 1024**2
                for f in ("move_month", "move_area", "move_addr"):
                    sizes[f"  pop.{f}"] = getattr(pop, f).nbytes / 1024**2
            s.phase = {"population": "calibrate", "calibrate": "chunks"}.get(name, prev)
            return out
        return wrapped

    G.make_population = phase("population", G.make_population)
    G.calibrate = phase("calibrate", G.calibrate)
    orig_generate = G.generate

    def gen(*a, **k):
        out = orig_generate(*a, **k)
        if out.dream is not None:
            sizes["dream frame (held to the end)"] = out.dream.memory_usage(deep=False).sum() / 1024**2
        for name in ("truth_persons", "cohort_record", "uddannelse", "adresser"):
            sizes[name] = getattr(out, name).memory_usage(deep=True).sum() / 1024**2
        s.phase = "write dream"
        return out

    synthesize.generate = gen
    orig_wp = synthesize.write_parquet

    def wp(*a, **k):
        s.phase = "write other tables"
        return orig_wp(*a, **k)

    synthesize.write_parquet = wp
    with tempfile.TemporaryDirectory(prefix="prof_synth_", dir=os.environ.get("BENCH_TMP")) as tmp:
        os.chdir(tmp)
        Path("params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
        s.start()
        t0 = time.perf_counter()
        synthesize.run(load_params("params.yaml"))
        secs = time.perf_counter() - t0
        s.stop = True
        s.join()
    print(f"persons {n:,}: {secs:.0f} s")
    print("peak RSS by phase (MB):")
    for k, v in s.peaks.items():
        print(f"  {k:<22} {v:8.0f}")
    print("sizes (MB):")
    for k, v in sizes.items():
        print(f"  {k:<32} {v:8.1f}")


if __name__ == "__main__":
    main(sys.argv[1:])
