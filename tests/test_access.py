"""Which folders a deployment run may read, write and load suites from (flows/access.py): paths are
resolved before they are compared, so ../ and symbolic links cannot climb out of a root."""

import pytest

from flows.access import AccessRefused, Roots, check, glob_base


@pytest.fixture()
def roots(tmp_path):
    for name in ("articles", "warehouse", "expectations", "outside"):
        (tmp_path / name).mkdir()
    return Roots((tmp_path / "articles",), (tmp_path / "warehouse",), (tmp_path / "expectations",))


def test_paths_inside_the_roots_pass(roots, tmp_path):
    check(roots, str(tmp_path / "articles"), str(tmp_path / "warehouse" / "w.duckdb"), str(tmp_path / "expectations"))
    check(roots, str(tmp_path / "articles" / "2026" / "*.txt"), str(tmp_path / "warehouse" / "sub" / "w.duckdb"), None)


def test_climbing_out_with_dots_or_links_is_refused(roots, tmp_path):
    climb = f"{tmp_path}/articles/../../../../../../etc"
    with pytest.raises(AccessRefused, match=r"source '.*etc' is outside the folders runs may read"):
        check(roots, climb, str(tmp_path / "warehouse" / "w.duckdb"), None)
    (tmp_path / "articles" / "escape").symlink_to(tmp_path / "outside", target_is_directory=True)
    with pytest.raises(AccessRefused, match="outside the folders runs may read"):
        check(roots, str(tmp_path / "articles" / "escape"), str(tmp_path / "warehouse" / "w.duckdb"), None)
    with pytest.raises(AccessRefused, match="outside the folders runs may read"):
        check(roots, f"{tmp_path}/articles/../outside/*.txt", str(tmp_path / "warehouse" / "w.duckdb"), None)


def test_every_problem_is_named_in_one_line(roots, tmp_path):
    with pytest.raises(AccessRefused) as refused:
        check(roots, "/etc", "/tmp/elsewhere/x.duckdb", "/etc")
    message = str(refused.value)
    assert len(message.splitlines()) == 1
    assert "source '/etc'" in message and "warehouse '/tmp/elsewhere/x.duckdb'" in message
    assert "expectations '/etc' is outside the folders suites may be loaded from" in message


def test_glob_base_is_the_folder_before_the_first_wildcard():
    assert str(glob_base("/data/news/2026-*/**/*.txt")) == "/data/news"
    assert str(glob_base("*.txt")) == "."
