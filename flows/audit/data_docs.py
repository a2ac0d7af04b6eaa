"""Great Expectations Data Docs that open offline, from any folder, with file://.

GX 1.24.1 writes pages that load Bootstrap, jQuery, bootstrap-table, Font Awesome, Vega and a logo
from CDNs. `make_offline` copies those assets out of installed Python packages into
`static/vendor/` of the site and points every page at them with relative paths:

  jQuery 3.7.1                     XStatic-jQuery
  Bootstrap 4.3.1 (+ Popper)       XStatic-Bootstrap 4.5.3 (bootstrap.bundle carries Popper)
  bootstrap-datepicker 1.9.0       XStatic-Bootstrap-Datepicker 1.4.0 (same jQuery plugin API)
  Font Awesome 6.6.0               XStatic-Font-Awesome 6.2.1 (has every icon GX uses)
  vega 5, vega-lite 5, vega-embed 6  django-js-lib-vega-embed (plain files, no Django import)
  bootstrap-table 1.19.1           no Python package ships it: flows/audit/vendor/bootstrap-table (MIT)
  bootstrap-dark 1.1.0             dropped: used only under a dark OS theme, where pages then stay
                                   light (with GX's own dark tables)
"""

from __future__ import annotations

import os
import re
import shutil
from importlib.resources import files
from pathlib import Path
from urllib.parse import urlsplit

SITE_NAME = "newsflow_local"

# vendor folder -> (package that ships the files, folder inside it, files or folders to copy)
_SOURCES = {
    "jquery": ("xstatic.pkg.jquery", "data", ("jquery.min.js",)),
    "bootstrap": ("xstatic.pkg.bootstrap", "data", ("css/bootstrap.min.css", "js/bootstrap.bundle.min.js")),
    "bootstrap-datepicker": (
        "xstatic.pkg.bootstrap_datepicker",
        "data",
        ("bootstrap-datepicker.js", "datepicker3.css"),
    ),
    "font-awesome": ("xstatic.pkg.font_awesome", "data", ("LICENSE.txt", "css/all.min.css", "webfonts")),
    "vega": ("js_lib_vega_embed", "static/js_lib_vega_embed", ("vega5.js", "vega-lite5.js", "vega-embed6.js")),
    "bootstrap-table": (
        "flows",
        "audit/vendor/bootstrap-table",
        (
            "LICENSE",
            "bootstrap-table.min.js",
            "bootstrap-table.min.css",
            "bootstrap-table-filter-control.min.js",
            "bootstrap-table-filter-control.min.css",
        ),
    ),
}

_CDN_ASSETS = "https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/"
_UNPKG_TABLE = "https://unpkg.com/bootstrap-table@1.19.{}/dist/"
# every external asset GX 1.24.1 references (query dropped) -> its copy under the site's static/;
# None removes the tag
_LOCAL = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "vendor/jquery/jquery.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "vendor/bootstrap/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "vendor/bootstrap/js/bootstrap.bundle.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": None,  # inside bootstrap.bundle
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": "vendor/bootstrap-datepicker/bootstrap-datepicker.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": "vendor/bootstrap-datepicker/datepicker3.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "vendor/font-awesome/css/all.min.css",
    "https://cdn.jsdelivr.net/npm/vega@5": "vendor/vega/vega5.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vendor/vega/vega-lite5.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vendor/vega/vega-embed6.js",
    _UNPKG_TABLE.format(1) + "bootstrap-table.min.js": "vendor/bootstrap-table/bootstrap-table.min.js",
    _UNPKG_TABLE.format(1) + "bootstrap-table.min.css": "vendor/bootstrap-table/bootstrap-table.min.css",
    _UNPKG_TABLE.format(1)
    + "extensions/filter-control/bootstrap-table-filter-control.min.js": "vendor/bootstrap-table/bootstrap-table-filter-control.min.js",
    **{
        _UNPKG_TABLE.format(0)
        + f"extensions/filter-control/bootstrap-table-filter-control{ext}": "vendor/bootstrap-table/bootstrap-table-filter-control.min.css"
        for ext in (".css", ".min.css")
    },
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": None,
    # GX copies its logo into every site; the dark-theme variant has no local copy
    _CDN_ASSETS + "logo-long.png": "images/logo-long.png",
    _CDN_ASSETS + "full_logo_dark.png": "images/logo-long.png",
}

_URL = r"[^\s\"'()<>]+"
# tags that load something: a script (with its empty body), a stylesheet or other <link>, an image
_TAG = re.compile(r"<script\b[^>]*>\s*</script>|<(?:link|img)\b[^>]*>", re.IGNORECASE)
_TAG_URL = re.compile(r"""\b(?:src|href)\s*=\s*(["']?)(""" + _URL + r")\1", re.IGNORECASE)
_CSS_URL = re.compile(r"""url\(\s*(["']?)(""" + _URL + r""")\1\s*\)""", re.IGNORECASE)
_EXTERNAL = re.compile(r"(?:https?:)?//", re.IGNORECASE)
_STATIC = re.compile(r"(?:\.{1,2}/)*static/(.+)")
# a hash for the CDN file would block the local copy
_SRI = re.compile(r"""\s+(?:integrity|crossorigin)(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>]+))?""", re.IGNORECASE)


def add_site(context, directory: Path) -> str:
    """Add a filesystem Data Docs site writing into `directory`; returns its name.

    After the checkpoints have run on the same context (an ephemeral context keeps their results
    in memory): `context.build_data_docs(site_names=[name])`, then `make_offline(directory)`.
    """
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,  # the walkthrough pop-up only links to hosted GX docs
            "store_backend": {
                "class_name": "TupleFilesystemStoreBackend",
                "base_directory": str(Path(directory).resolve()),
            },
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    return SITE_NAME


def make_offline(directory: Path) -> None:
    """Copy the packaged assets into directory/static/vendor and point every page at them.

    Raises ValueError, before changing any page, for an external asset it has no copy of
    (a GX upgrade that adds one), so no page is left loading from the network.
    """
    site = Path(directory).resolve()
    rewritten, unknown = {}, set()
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new = _rewrite(text, os.path.relpath(site / "static", page.parent), unknown)
        if new != text:
            rewritten[page] = new
    if unknown:
        raise ValueError(f"no local copy for external assets: {sorted(unknown)}")
    _copy_vendor(site / "static" / "vendor")
    for page, text in rewritten.items():
        page.write_text(text, encoding="utf-8")


def _local(url: str, static: str, unknown: set) -> str | None:
    """Where `url` should point from a page whose static/ folder is at `static`; None: drop it."""
    if not _EXTERNAL.match(url):
        # GX puts validation pages' favicon one folder short of static/: re-root every static/ path
        found = _STATIC.fullmatch(url)
        return Path(static, found.group(1)).as_posix() if found else url
    parts = urlsplit(url if url.startswith("http") else "https:" + url)
    key = f"https://{parts.netloc}{parts.path}"
    if key not in _LOCAL:
        unknown.add(url)
        return url
    target = _LOCAL[key]
    return None if target is None else Path(static, target).as_posix()


def _rewrite(html: str, static: str, unknown: set) -> str:
    def tag(match: re.Match) -> str:
        text = match.group(0)
        found = _TAG_URL.search(text)
        if not found:
            return text
        local = _local(found.group(2), static, unknown)
        if local is None:
            return ""
        if local == found.group(2):
            return text
        return _SRI.sub("", text[: found.start(2)] + local + text[found.end(2) :])

    def css(match: re.Match) -> str:
        local = _local(match.group(2), static, unknown)
        return "none" if local is None else f"url('{local}')"

    return _CSS_URL.sub(css, _TAG.sub(tag, html))


def _copy_vendor(vendor: Path) -> None:
    for name, (package, folder, entries) in _SOURCES.items():
        source = files(package).joinpath(folder)
        for entry in entries:
            src, dst = Path(str(source.joinpath(entry))), vendor / name / entry
            dst.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, dst, dirs_exist_ok=True)
            else:
                shutil.copyfile(src, dst)
