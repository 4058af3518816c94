"""A copy of the book's sources, built somewhere other than the reader's ``book/_build``.

``make book`` builds into ``book/_build/html``: that is the reader's book. The tests build the
same sources with a placeholder repository for the launch buttons, and the benchmark builds
them from a clean state; both do it in a copy made by :func:`mirror`, so after ``make test`` or
``make bench`` the reader's ``book/_build/html`` is still exactly what ``make book`` built.

The copy holds ``book/`` (without its build outputs and generated notebooks),
``notebooks/lessons/`` and a link to the repository's ``.venv``; ``book/node_modules`` is a
link too when it exists (no second ``npm ci``). Files keep their modification times and only
changed files are copied, so the copy's own execution cache and Sphinx environment keep
working from one run to the next.
"""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: generated or installed under book/: never copied
_BOOK_SKIP = {"_build", "_assets", "lessons", "node_modules", "__pycache__"}


def _sync_tree(src: Path, dst: Path, skip: set[str]) -> None:
    """Make ``dst`` hold exactly the files of ``src`` (minus ``skip`` at the top level)."""
    dst.mkdir(parents=True, exist_ok=True)
    wanted = {p.name for p in src.iterdir() if p.name not in skip}
    for stale in dst.iterdir():
        if stale.name not in wanted and stale.name not in skip:
            shutil.rmtree(stale) if stale.is_dir() and not stale.is_symlink() else stale.unlink()
    for name in wanted:
        s, d = src / name, dst / name
        if s.is_dir():
            if d.exists() and not d.is_dir():
                d.unlink()
            _sync_tree(s, d, {"__pycache__"})
        elif not d.exists() or not filecmp.cmp(s, d, shallow=False):
            shutil.copy2(s, d)


def _link(target: Path, link: Path) -> None:
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    link.symlink_to(target)


def mirror(dest: Path, *, root: Path = ROOT, seed_cache: bool = False) -> Path:
    """Bring the copy at ``dest`` up to date with ``root``'s book sources; return ``dest``.

    With ``seed_cache``, the copy's execution cache is replaced by a copy of the reader's
    (``book/_build/.jupyter_cache``) when the reader's is newer (or the copy has none):
    lessons whose code has not changed since the last ``make book`` are not executed again.
    The reader's build is only read.
    """
    dest = Path(dest)
    _sync_tree(root / "book", dest / "book", _BOOK_SKIP)
    _sync_tree(root / "notebooks" / "lessons", dest / "notebooks" / "lessons", set())
    _link(root / ".venv", dest / ".venv")
    if (root / "book" / "node_modules").is_dir():
        _link(root / "book" / "node_modules", dest / "book" / "node_modules")
    cache = root / "book" / "_build" / ".jupyter_cache"
    own_cache = dest / "book" / "_build" / ".jupyter_cache"
    if seed_cache and (cache / "global.db").is_file():
        own_db = own_cache / "global.db"
        if not own_db.is_file() or own_db.stat().st_mtime < (cache / "global.db").stat().st_mtime:
            shutil.rmtree(own_cache, ignore_errors=True)
            shutil.copytree(cache, own_cache)
    return dest
