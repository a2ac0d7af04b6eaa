"""The same flow on a local Dask cluster (prefect-dask) publishes the same curated tables."""

from flows.app.runners import make_task_runner
from flows.pipeline import curate
from tests.conftest import SEEDS
from tests.test_pipeline import assert_same, snapshot


def test_dask_task_runner_gives_the_same_curated_tables(seed_run, tmp_path):
    warehouse = tmp_path / "dask.duckdb"
    on_dask = curate.with_options(task_runner=make_task_runner("dask", workers=2))
    summary = on_dask(source=str(SEEDS), warehouse=str(warehouse), batch_size=2)  # three batches over two workers
    assert summary["status"] == "published" and summary["articles_extracted"] == 5
    assert_same(snapshot(seed_run[1]), snapshot(warehouse))


def test_runner_is_chosen_by_configuration(monkeypatch):
    from prefect.task_runners import ThreadPoolTaskRunner
    from prefect_dask import DaskTaskRunner

    assert isinstance(make_task_runner(), ThreadPoolTaskRunner)
    monkeypatch.setenv("NEWSFLOW_TASK_RUNNER", "dask")
    monkeypatch.setenv("NEWSFLOW_DASK_ADDRESS", "tcp://127.0.0.1:8786")
    runner = make_task_runner()
    assert isinstance(runner, DaskTaskRunner) and runner.address == "tcp://127.0.0.1:8786"
