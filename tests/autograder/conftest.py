"""Fixtures the autograder's tests share.

``released_course``: a course with one assignment released, as ``release.main`` leaves it
(nbgrader's source and release folders, the gradebook, the visible checks). Each assignment is
released once per test process into a template; every test gets its own copy. A release is
nbgrader's ``generate_assignment`` and a new gradebook (about a second, and several on a busy
machine); a copy of the template's eight files is a few milliseconds. Tests run as root here,
so the template cannot be made read-only by its mode: it is checked instead, by its digest,
before every copy (a test that wrote into it fails the next test that copies it, by name).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def tree_digest(folder: Path) -> str:
    """SHA-256 over every file's relative path and bytes, in path order."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


@dataclass
class ReleasedTemplates:
    """One released course per assignment under ``root``, made on first use."""

    root: Path
    digests: dict[str, str] = field(default_factory=dict)

    def template(self, assignment: str) -> Path:
        from autograder.term import release

        folder = self.root / assignment
        if assignment not in self.digests:
            release.main(assignment=assignment, course=folder)
            self.digests[assignment] = tree_digest(folder)
        elif tree_digest(folder) != self.digests[assignment]:
            raise AssertionError(f"a test wrote into the released template of {assignment!r}")
        return folder

    def copy(self, assignment: str, course: Path) -> Path:
        """``release.main(assignment=..., course=course)`` for a course not made yet: the same
        files, copied; returns the release folder, as ``release.main`` does."""
        course = Path(course)
        if course.exists() and any(course.iterdir()):
            raise ValueError(f"course must be a new folder, got {course} (holds files)")
        shutil.copytree(self.template(assignment), course, symlinks=True, dirs_exist_ok=True)
        return course.resolve() / "release" / assignment


@pytest.fixture(scope="session")
def released_templates(tmp_path_factory) -> ReleasedTemplates:
    return ReleasedTemplates(root=tmp_path_factory.mktemp("released-templates"))


@pytest.fixture(scope="session")
def released_course(released_templates) -> Callable[[str, Path], Path]:
    """``released_course(assignment, course)``: ``course`` with ``assignment`` released (a
    copy of this process's one release of it); returns the release folder."""
    return released_templates.copy
