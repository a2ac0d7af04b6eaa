"""The task runner the heavy tasks (extraction batches, linking) are submitted to, chosen by configuration.

Those tasks are pure functions of their frames, so where they run does not change the result:
  threads  a thread pool in the flow's process (default)
  dask     prefect-dask's DaskTaskRunner: an existing cluster (`dask_address`) or a local one
Environment variables override seeds/config.toml [pipeline]: NEWSFLOW_TASK_RUNNER, NEWSFLOW_DASK_ADDRESS.
Warehouse reads and writes are called directly in the flow's process, never on a worker: the DuckDB
file lives beside the flow, and workers of a remote cluster could not open it.
"""

from __future__ import annotations

import logging
import os

from flows.config import setting

RUNNERS = ("threads", "dask")


def make_task_runner(kind: str | None = None, address: str | None = None, workers: int | None = None):
    kind = kind or os.environ.get("NEWSFLOW_TASK_RUNNER") or setting("pipeline", "task_runner")
    if kind == "threads":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=workers or setting("pipeline", "thread_workers"))
    if kind == "dask":
        try:
            from prefect_dask import DaskTaskRunner
        except ImportError as exc:
            raise RuntimeError("the dask task runner needs prefect-dask: pip install 'newsflow[dask]'") from exc
        logging.getLogger("distributed").setLevel(logging.WARNING)  # worker start/stop chatter
        address = address or os.environ.get("NEWSFLOW_DASK_ADDRESS") or setting("pipeline", "dask_address")
        if address:
            return DaskTaskRunner(address=address)
        return DaskTaskRunner(
            cluster_kwargs={
                "n_workers": workers or setting("pipeline", "dask_workers"),
                "threads_per_worker": 1,
                "processes": True,
                "dashboard_address": None,
            }
        )
    raise ValueError(f"unknown task runner {kind!r}: use one of {', '.join(RUNNERS)}")


def default_task_runner():
    return make_task_runner()
