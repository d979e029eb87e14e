"""The engine that runs the per-partition work of a stage (params ``compute``).

A stage hands :func:`map_partitions` a pure, module-level function and one task per person partition
(plain values: paths and settings); it gets the results back in task order, whatever order the tasks finish
in, so the outputs never depend on the engine or on the number of workers.

* ``engine: local``: the tasks one after the other in the stage's own process (a progress bar on a terminal).
* ``engine: dask``: the tasks on ``dask.distributed``, on the scheduler at ``compute.scheduler`` (any cluster,
  whose workers must see the same file system and the project's code), or else on a ``LocalCluster`` of
  ``compute.workers`` single-threaded worker processes (default: one per core) started for the stage and shut
  down after it. Progress: a tqdm bar over the tasks as they finish.

Only the loop is written here; scheduling, data transfer and worker management are Dask's.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from pipeline.logs import peak_memory_mb, progress

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger("pipeline.compute")


def _measured(fn: Callable[[T], R], task: T) -> tuple[R, float]:
    """``fn(task)`` and the peak memory (MB) of the process that ran it (a Dask worker's, for the stage log)."""
    return fn(task), peak_memory_mb()


def default_workers() -> int:
    """Worker processes of a LocalCluster sized to the machine: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:      # macOS, Windows
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def dask_client(compute: dict) -> Iterator[Any]:
    """A ``dask.distributed.Client`` for params ``compute``: connected to ``compute.scheduler``, or to a
    LocalCluster started here (and closed on exit) with ``compute.workers`` worker processes."""
    from dask.distributed import Client, LocalCluster

    address = compute.get("scheduler")
    if address:
        with Client(address) as client:
            yield client
        return
    workers = compute.get("workers") or default_workers()
    # one thread per worker: the partition work is numpy/pandas in large blocks; memory per worker is the
    # machine's memory split between the workers (Dask's default)
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def map_partitions(fn: Callable[[T], R], tasks: Sequence[T], compute: dict, desc: str) -> list[R]:
    """``[fn(t) for t in tasks]`` on the engine of params ``compute`` (results in task order). ``fn`` must be a
    module-level function of the pipeline package (Dask workers import it by name) and free of side effects
    other than writing its own files."""
    tasks = list(tasks)
    if compute.get("engine", "local") == "local":
        return [fn(t) for t in progress(tasks, desc, total=len(tasks))]
    from dask.distributed import as_completed

    with dask_client(compute) as client:
        futures = client.map(_measured, [fn] * len(tasks), tasks, pure=False)
        for _ in progress(as_completed(futures), desc, total=len(futures)):
            pass
        done = client.gather(futures)
        n_workers = len(client.scheduler_info().get("workers", {}))
    peak = max((mb for _, mb in done), default=0.0)
    log.info("%s: %d on %d Dask workers, peak memory of a worker %.0f MB", desc, len(tasks), n_workers, peak)
    return [r for r, _ in done]
