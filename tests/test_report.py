"""What the Prefect UI shows for a run: artifacts with stable keys and the run's numbers."""

import shutil

from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

from flows.app import report
from flows.pipeline import run_curate
from tests.conftest import FIXTURES


def artifacts_of(run_id: str) -> dict:
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(like_="newsflow-")),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
        )
    return {a.key: a for a in found}


def test_run_publishes_summary_failed_and_quarantine_artifacts(prefect_backend, tmp_path, seeds_copy, data_docs):
    shutil.copy(FIXTURES / "unattributed.txt", seeds_copy / "unattributed.txt")
    (seeds_copy / "broken.txt").write_bytes(b"\x00\x01\x02\x03 binary")
    summary = run_curate(
        source=str(seeds_copy), warehouse=str(tmp_path / "w.duckdb"), languages=["it", "en", "sv", "pl"]
    )
    found = artifacts_of(summary["run_id"])
    assert set(found) == {
        report.SUMMARY_KEY,
        report.FAILED_KEY,
        report.QUARANTINE_KEY,
        report.DATA_DOCS_KEY,
        report.PROGRESS_KEY,
    }
    assert found[report.PROGRESS_KEY].data == 100.0  # every article extracted
    text = found[report.SUMMARY_KEY].data
    assert "# newsflow run: published" in text
    assert "| skipped (language not selected) | 1 |" in text and "| it | 1 |" in text and "| vi |" not in text
    assert "failed: every claim has a source" in text and "binary content" in text and "not selected" in text
    assert found[report.FAILED_KEY].type == "table" and "every claim has a source" in found[report.FAILED_KEY].data
    quarantine = found[report.QUARANTINE_KEY].data
    assert "unattributed.txt" in quarantine and "broken.txt" in quarantine
    assert summary["data_docs"].startswith("file://") and summary["data_docs"].endswith("/index.html")
    assert f"({summary['data_docs']})" in found[report.DATA_DOCS_KEY].data  # a link artifact
