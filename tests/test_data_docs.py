"""Data Docs that open offline: every page loads its CSS/JS/images from the site's own static/."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import warnings

import duckdb
import pytest

from flows.audit import data_docs

# what a page loads: <script src>, <link href>, <img src>, CSS url()
ASSET = re.compile(
    r"""<script\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["']?([^"'\s>]+)"""
    r"""|<img\b[^>]*?\bsrc\s*=\s*["']?([^"'\s>]+)"""
    r"""|url\(\s*["']?([^"')\s]+)""",
    re.IGNORECASE,
)
NETWORK = re.compile(r"^(?:[a-z]+:)?//", re.IGNORECASE)
CHROMIUM = shutil.which("chromium")
pytestmark = pytest.mark.filterwarnings("ignore:`schema_name` is deprecated:DeprecationWarning")


def refs(text: str) -> list[str]:
    return [next(g for g in m.groups() if g) for m in ASSET.finditer(text)]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One real validation (a failing not-null and a charted KL divergence) built into an offline site."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import great_expectations as gx
    from great_expectations.checkpoint import Checkpoint

    from flows.audit import gx_duckdb

    gx_duckdb.install()
    root = tmp_path_factory.mktemp("docs")
    db = root / "tiny.duckdb"
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE SCHEMA staging; CREATE TABLE staging.t AS SELECT * FROM (VALUES ('a', 1), ('b', NULL), ('c', 3)) v(id, x)"
    )
    con.close()

    context = gx.get_context(mode="ephemeral")
    directory = root / "site"
    name = data_docs.add_site(context, directory)
    batch = (
        context.data_sources.add_sql(name="wh", connection_string=f"duckdb:///{db}")
        .add_table_asset(name="t", table_name="t", schema_name="staging")
        .add_batch_definition_whole_table("all")
    )
    # a dotted suite name nests pages one folder deeper
    suite = context.suites.add(
        gx.ExpectationSuite(
            name="staging.t",
            expectations=[
                gx.expectations.ExpectColumnValuesToNotBeNull(column="x"),
                gx.expectations.ExpectColumnKLDivergenceToBeLessThan(  # its result page draws Vega charts
                    column="id", partition_object={"values": ["a", "b", "c"], "weights": [0.2, 0.3, 0.5]}, threshold=0.1
                ),
            ],
        )
    )
    definition = context.validation_definitions.add(gx.ValidationDefinition(name="v", data=batch, suite=suite))
    context.checkpoints.add(Checkpoint(name="cp", validation_definitions=[definition])).run()
    context.build_data_docs(site_names=[name])
    data_docs.make_offline(directory)
    return directory


def validation_page(site):
    return next((site / "validations").rglob("*.html"))


def test_site_has_index_validation_and_suite_pages(site):
    assert (site / "index.html").is_file()
    assert validation_page(site).relative_to(site).parts[:3] == ("validations", "staging", "t")
    assert (site / "expectations" / "staging" / "t.html").is_file()


def test_no_page_loads_anything_from_the_network(site):
    for page in site.rglob("*.html"):
        text = page.read_text()
        assert [r for r in refs(text) if NETWORK.match(r)] == [], page
        assert "integrity=" not in text  # a CDN file's hash would block the local copy


def test_every_local_asset_resolves(site):
    checked = set()
    for source in [*site.rglob("*.html"), *(site / "static" / "vendor").rglob("*.css")]:
        for ref in refs(source.read_text()):
            if ref.startswith("data:"):
                continue
            target = (source.parent / ref.split("?")[0].split("#")[0]).resolve()
            assert target.is_file(), f"{source.relative_to(site)}: {ref}"
            checked.add(target.relative_to(site).as_posix())
    # the CDN references were rewritten, not just deleted
    assert {
        "static/vendor/jquery/jquery.min.js",
        "static/vendor/bootstrap/css/bootstrap.min.css",
        "static/vendor/bootstrap-table/bootstrap-table.min.js",
        "static/vendor/vega/vega-embed6.js",
        "static/vendor/font-awesome/webfonts/fa-solid-900.woff2",
        "static/images/logo-long.png",
    } <= checked


def test_make_offline_is_idempotent(site):
    before = {p: p.read_bytes() for p in site.rglob("*.html")}
    data_docs.make_offline(site)
    assert {p: p.read_bytes() for p in site.rglob("*.html")} == before


def test_rewrites_relative_to_each_page_and_drops_what_a_bundle_covers(tmp_path):
    page = tmp_path / "a" / "b" / "page.html"
    page.parent.mkdir(parents=True)
    page.write_text(
        '<link rel="stylesheet" href="//maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css"/>\n'
        '<script src="https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js" integrity="sha384-x" crossorigin="anonymous"></script>\n'
        '<script src="https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js" integrity="sha384-y" crossorigin="anonymous"></script>\n'
        '<a href="https://greatexpectations.io">GX</a>\n'
    )
    data_docs.make_offline(tmp_path)
    assert page.read_text() == (
        '<link rel="stylesheet" href="../../static/vendor/bootstrap/css/bootstrap.min.css"/>\n'
        "\n"
        '<script src="../../static/vendor/bootstrap/js/bootstrap.bundle.min.js"></script>\n'
        '<a href="https://greatexpectations.io">GX</a>\n'  # a link is followed only on a click
    )


def test_unknown_external_asset_is_refused_before_any_change(tmp_path):
    page = tmp_path / "index.html"
    page.write_text(
        '<script src="https://code.jquery.com/jquery-3.7.1.min.js"></script><script src="https://cdn.example.org/x.js"></script>'
    )
    before = page.read_text()
    with pytest.raises(ValueError, match="cdn.example.org"):
        data_docs.make_offline(tmp_path)
    assert page.read_text() == before and not (tmp_path / "static").exists()


# once the page's scripts (jQuery-ready ones come after "load") and fonts are done: what only
# applied CSS and working JS can produce
PROBE = """<script>
window.addEventListener("load", () => document.fonts.ready.then(() => setTimeout(() => {
  document.body.dataset.probe = JSON.stringify({
    navbar: getComputedStyle(document.querySelector("nav.navbar")).position,
    icons: [...document.fonts].some(f => f.family.includes("Font Awesome") && f.status === "loaded"),
    tables: document.querySelectorAll(".bootstrap-table").length,
    charts: document.querySelectorAll(".vega-embed canvas, .vega-embed svg").length,
  });
}, 2000)));
</script></body>"""


def chromium(*args: str) -> str:
    run = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,1000",
            "--virtual-time-budget=10000",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


def probe(page) -> dict:
    page.write_text(page.read_text().replace("</body>", PROBE))
    found = re.search(r'data-probe="([^"]*)"', chromium("--dump-dom", page.as_uri()))
    assert found, f"the probe did not run on {page.name}"
    return json.loads(html.unescape(found.group(1)))


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs a `chromium` binary on PATH (Debian: apt-get install chromium); CI has none"
)
def test_pages_render_styled_in_headless_chromium(site, tmp_path):
    copy = tmp_path / "site"
    shutil.copytree(site, copy)
    shot = tmp_path / "validation.png"
    chromium(f"--screenshot={shot}", validation_page(copy).as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # Bootstrap CSS (sticky navbar), Font Awesome, bootstrap-table and Vega all ran from static/vendor
    assert probe(copy / "index.html") == {"navbar": "sticky", "icons": True, "tables": 2, "charts": 0}
    page = probe(validation_page(copy))
    assert page["navbar"] == "sticky" and page["icons"] and page["tables"] > 0 and page["charts"] > 0

    # the probe tells: without the vendored files the same page is unstyled and empty
    shutil.rmtree(copy / "static" / "vendor")
    (copy / "index.html").write_text((site / "index.html").read_text())
    assert probe(copy / "index.html") == {"navbar": "static", "icons": False, "tables": 0, "charts": 0}
