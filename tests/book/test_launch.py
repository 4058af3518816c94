"""Launch buttons without a build: which repository, which configuration, and the branch
``book/publish_notebooks.py`` writes (into a temporary bare repository, from a temporary clone).

(test_book.py checks the buttons on the pages of the real build, and that they open exactly
the notebooks published here.)
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
sys.path.insert(0, str(BOOK))

import launch  # noqa: E402
import publish_notebooks  # noqa: E402

GITHUB = "https://github.com/coursekit-example/dl-unit"
LESSONS = sorted(p.stem for p in (ROOT / "notebooks" / "lessons").glob("*.md"))


def _git(*args, cwd):
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def clone(tmp_path):
    """A clone of this repository's HEAD with no remote, and the book scripts being tested."""
    target = tmp_path / "clone"
    _git("clone", "--quiet", str(ROOT), str(target), cwd=tmp_path)
    _git("remote", "remove", "origin", cwd=target)
    _git("config", "user.name", "Test", cwd=target)
    _git("config", "user.email", "test@example.org", cwd=target)
    for script in ("launch.py", "prepare_lessons.py", "publish_notebooks.py"):
        shutil.copy(BOOK / script, target / "book" / script)
    return target


@pytest.fixture
def bare(tmp_path):
    target = tmp_path / "published.git"
    _git("init", "--quiet", "--bare", str(target), cwd=tmp_path)
    return target


def _state(repo):
    """What a user sees of a repository: branch, commit, index, working tree."""
    return (
        _git("symbolic-ref", "HEAD", cwd=repo),
        _git("rev-parse", "HEAD", cwd=repo),
        _git("ls-files", "--stage", cwd=repo),
        _git("status", "--porcelain", "--untracked-files=all", cwd=repo),
    )


# -- which repository ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        GITHUB,
        GITHUB + "/",
        GITHUB + ".git",
        "git@github.com:coursekit-example/dl-unit.git",
        "ssh://git@github.com/coursekit-example/dl-unit.git",
    ],
)
def test_every_spelling_of_a_github_url_gives_the_same_web_address(url, clone):
    repo = launch.repository({"BOOK_REPOSITORY_URL": url}, clone)
    assert repo.github == GITHUB and repo.branch == "notebooks" and repo.url == url.rstrip("/")


def test_the_origin_remote_is_used_when_no_url_is_set(clone):
    _git("remote", "add", "origin", "git@github.com:coursekit-example/dl-unit.git", cwd=clone)
    repo = launch.repository({}, clone)
    assert repo.source == "origin" and repo.github == GITHUB
    repo = launch.repository({"BOOK_REPOSITORY_URL": "https://github.com/other/book"}, clone)
    assert repo.source == "BOOK_REPOSITORY_URL" and repo.github == "https://github.com/other/book"


@pytest.mark.parametrize("url", ["github.com/coursekit-example/dl-unit", "not a url", "ftp://x/y"])
def test_a_url_git_cannot_push_to_is_refused_by_name(url, clone):
    with pytest.raises(ValueError, match=f"got {url!r}"):
        launch.repository({"BOOK_REPOSITORY_URL": url}, clone)


def test_a_bad_branch_name_is_refused_by_name(clone):
    environ = {"BOOK_REPOSITORY_URL": GITHUB, "BOOK_NOTEBOOKS_BRANCH": "two..dots"}
    with pytest.raises(ValueError, match="got 'two..dots'"):
        launch.repository(environ, clone)


# -- the configuration the build uses -----------------------------------------------------


def test_without_a_repository_the_build_uses_config_yml_and_says_why(clone, capsys):
    assert launch.main({}, clone) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(launch.CONFIG)
    assert err.strip() == (
        "launch buttons off: BOOK_REPOSITORY_URL is not set and the repository has no origin remote"
    )


def test_an_origin_not_on_github_turns_the_buttons_off_and_is_named(clone, capsys):
    _git("remote", "add", "origin", "/srv/git/course.git", cwd=clone)
    assert launch.main({}, clone) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(launch.CONFIG)
    assert "launch buttons off: origin (/srv/git/course.git) is not on GitHub" in err


def test_a_repository_url_not_on_github_fails_the_build_by_name(clone, capsys):
    assert launch.main({"BOOK_REPOSITORY_URL": "https://gitlab.com/a/b"}, clone) == 2
    assert "got 'https://gitlab.com/a/b'" in capsys.readouterr().err


def test_with_a_repository_the_config_adds_binder_colab_and_the_branch_only(
    clone, tmp_path, monkeypatch, capsys
):
    generated = tmp_path / "_build" / "launch_config.yml"
    monkeypatch.setattr(launch, "LAUNCH_CONFIG", generated)
    assert launch.main({"BOOK_REPOSITORY_URL": GITHUB + ".git"}, clone) == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(generated) and err.startswith("launch buttons on:")
    config, plain = yaml.safe_load(generated.read_text()), yaml.safe_load(launch.CONFIG.read_text())
    buttons = {"binderhub_url": "https://mybinder.org", "colab_url": launch.COLAB_URL}
    assert config["launch_buttons"] == {**plain["launch_buttons"], **buttons}
    assert config["launch_buttons"]["thebe"] is False  # live code would load from a CDN
    assert config["repository"] == {"url": GITHUB, "branch": "notebooks", "path_to_book": "book"}
    theme = config["sphinx"]["config"]["html_theme_options"]
    assert theme["launch_buttons"] == config["launch_buttons"]
    assert (theme["repository_url"], theme["repository_branch"]) == (GITHUB, "notebooks")
    extension = config["sphinx"]["local_extensions"]["offline_book"]
    assert (generated.parent / extension).resolve() == BOOK / "_ext"
    for key in set(plain) - {"launch_buttons", "sphinx"}:
        assert config[key] == plain[key], key


def test_an_unchanged_config_is_not_rewritten(clone, tmp_path, monkeypatch):
    """A rewrite would not re-execute anything, but the no-change rebuild stays untouched."""
    generated = tmp_path / "launch_config.yml"
    monkeypatch.setattr(launch, "LAUNCH_CONFIG", generated)
    launch.main({"BOOK_REPOSITORY_URL": GITHUB}, clone)
    os.utime(generated, (1_000_000_000, 1_000_000_000))
    launch.main({"BOOK_REPOSITORY_URL": GITHUB}, clone)
    assert generated.stat().st_mtime == 1_000_000_000


# -- publishing the notebooks -------------------------------------------------------------


def test_publish_writes_one_notebook_per_lesson_and_leaves_the_checkout_alone(clone, bare):
    import prepare_lessons

    before = _state(clone)
    environ = {"BOOK_REPOSITORY_URL": bare.as_uri()}
    tip = publish_notebooks.main(root=clone, environ=environ)

    assert _state(clone) == before
    assert _git("rev-parse", "refs/heads/notebooks", cwd=bare) == tip
    files = set(_git("ls-tree", "-r", "--name-only", "notebooks", cwd=bare).splitlines())
    repo = launch.repository(environ, clone)
    notebooks = {repo.notebook_path(f"lessons/{name}") for name in LESSONS}
    assert {f for f in files if f.endswith(".ipynb")} == notebooks
    assert {"binder/requirements.txt", "binder/runtime.txt", "pyproject.toml"} <= files
    assert "coursekit/xor.py" in files
    assert not any(f.startswith(("autograder/", "tests/")) for f in files)  # no hidden tests

    for name in LESSONS:
        text = _git("show", f"notebooks:book/lessons/{name}.ipynb", cwd=bare)
        notebook = nbformat.reads(text, as_version=4)
        nbformat.validate(notebook)
        source = _git("show", f"HEAD:notebooks/lessons/{name}.md", cwd=clone)
        expected = prepare_lessons.reader_copy(prepare_lessons.to_notebook(source)).cells
        assert notebook.cells[1:] == expected, name
        assert not any(prepare_lessons.is_claim_cell(c) for c in notebook.cells)  # reader's copy
        first = notebook.cells[0]
        assert first.metadata["tags"] == ["remove-cell"]  # not shown on a page
        assert f"coursekit @ git+{bare.as_uri()}@notebooks" in first.source


def test_a_second_publish_with_nothing_new_makes_no_commit_and_a_new_one_fast_forwards(clone, bare):
    environ = {"BOOK_REPOSITORY_URL": bare.as_uri()}
    first = publish_notebooks.main(root=clone, environ=environ)
    assert publish_notebooks.main(root=clone, environ=environ) == first
    lesson = clone / "notebooks" / "lessons" / "errata.md"
    lesson.write_text(lesson.read_text() + "\nOne more line.\n")
    _git("commit", "--quiet", "-am", "errata: one more line", cwd=clone)
    second = publish_notebooks.main(root=clone, environ=environ)
    assert _git("rev-parse", "notebooks^", cwd=bare) == first
    assert "One more line." in _git("show", f"{second}:book/lessons/errata.ipynb", cwd=bare)


def test_the_colab_cell_installs_from_github_in_colab_and_does_nothing_elsewhere(monkeypatch):
    repo = launch.Repository(url=GITHUB + ".git", branch="notebooks", source="origin")
    requirements = (ROOT / "requirements.txt").read_text()
    cell = publish_notebooks.colab_cell(repo, requirements)
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, **kw: calls.append(args))
    exec(cell.source, {})
    assert calls == []  # not in Colab
    monkeypatch.setitem(sys.modules, "google.colab", object())
    exec(cell.source, {})
    pin = next(line for line in requirements.splitlines() if line.startswith("keras-tuner=="))
    pip = [sys.executable, "-m", "pip", "install", "--quiet"]
    assert calls == [[*pip, f"coursekit @ git+{GITHUB}@notebooks", pin]]


def test_binder_gets_the_readers_pins_and_this_package():
    requirements = (ROOT / "requirements.txt").read_text()
    lines = publish_notebooks.binder_requirements(requirements).splitlines()
    assert "." in lines and "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    for line in requirements.splitlines():
        name = line.split("==")[0]
        if line and not line.startswith("#"):
            assert (line in lines) == (name not in publish_notebooks.NOT_FOR_READERS), line


def test_publish_without_a_repository_fails_naming_the_setting(clone, bare):
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOOK_")}
    script = clone / "book" / "publish_notebooks.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr.startswith("error: no repository to publish to: set BOOK_REPOSITORY_URL")
    assert _git("for-each-ref", "refs/heads/notebooks", cwd=clone) == ""


def test_publish_refuses_to_rewrite_the_branch_checked_out(clone, bare):
    _git("switch", "--quiet", "-c", "notebooks", cwd=clone)
    with pytest.raises(ValueError, match="the current branch is 'notebooks'"):
        publish_notebooks.main(root=clone, environ={"BOOK_REPOSITORY_URL": bare.as_uri()})
