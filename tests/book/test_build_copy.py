"""book/build_copy.py: the copy the tests and the benchmark build, so the reader's build is not."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "book"))

import build_copy  # noqa: E402


def _fake_repo(root: Path) -> Path:
    (root / "book" / "_ext").mkdir(parents=True)
    (root / "book" / "_config.yml").write_text("title: x\n")
    (root / "book" / "_ext" / "ext.py").write_text("# ext\n")
    (root / "book" / "_build" / "html").mkdir(parents=True)
    (root / "book" / "_build" / "html" / "index.html").write_text("reader's page")
    (root / "book" / "lessons").mkdir()
    (root / "book" / "lessons" / "01.ipynb").write_text("{}")  # generated: not copied
    (root / "notebooks" / "lessons").mkdir(parents=True)
    (root / "notebooks" / "lessons" / "01.md").write_text("# one\n")
    (root / ".venv").mkdir()
    return root


def test_the_copy_holds_the_sources_and_links_the_venv_but_no_build_output(tmp_path):
    repo = _fake_repo(tmp_path / "repo")
    copy = build_copy.mirror(tmp_path / "copy", root=repo)
    assert (copy / "book" / "_config.yml").read_text() == "title: x\n"
    assert (copy / "book" / "_ext" / "ext.py").exists()
    assert (copy / "notebooks" / "lessons" / "01.md").read_text() == "# one\n"
    assert (copy / ".venv").is_symlink() and (copy / ".venv").resolve() == repo / ".venv"
    assert not (copy / "book" / "_build").exists() and not (copy / "book" / "lessons").exists()


def test_a_second_mirror_follows_edits_and_deletions_and_keeps_unchanged_mtimes(tmp_path):
    repo = _fake_repo(tmp_path / "repo")
    copy = build_copy.mirror(tmp_path / "copy", root=repo)
    kept = copy / "book" / "_config.yml"
    os.utime(kept, (1_000_000, 1_000_000))
    (repo / "book" / "_config.yml").touch()  # same content: not copied again
    os.utime(repo / "book" / "_config.yml", (1_000_000, 1_000_000))
    (repo / "notebooks" / "lessons" / "01.md").write_text("# one, edited\n")
    (repo / "book" / "_ext" / "ext.py").unlink()
    (copy / "book" / "_build" / "html").mkdir(parents=True)  # the copy's own build stays
    build_copy.mirror(copy, root=repo)
    assert (copy / "notebooks" / "lessons" / "01.md").read_text() == "# one, edited\n"
    assert not (copy / "book" / "_ext" / "ext.py").exists()
    assert kept.stat().st_mtime == 1_000_000
    assert (copy / "book" / "_build" / "html").is_dir()


def test_the_execution_cache_is_seeded_from_the_readers_only_when_it_is_newer(tmp_path):
    repo = _fake_repo(tmp_path / "repo")
    readers = repo / "book" / "_build" / ".jupyter_cache"
    readers.mkdir()
    (readers / "global.db").write_text("reader v1")
    copy = build_copy.mirror(tmp_path / "copy", root=repo, seed_cache=True)
    own = copy / "book" / "_build" / ".jupyter_cache" / "global.db"
    assert own.read_text() == "reader v1"
    own.write_text("copy's own, newer")
    os.utime(readers / "global.db", (1_000_000, 1_000_000))
    build_copy.mirror(copy, root=repo, seed_cache=True)
    assert own.read_text() == "copy's own, newer"
    (readers / "global.db").write_text("reader v2")  # make book ran again: newer
    os.utime(own, (1_000_000, 1_000_000))
    build_copy.mirror(copy, root=repo, seed_cache=True)
    assert own.read_text() == "reader v2"
    assert (repo / "book" / "_build" / "html" / "index.html").read_text() == "reader's page"
