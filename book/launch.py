"""Launch buttons (Colab, Binder) on the lesson pages: where they point, and the build's config.

A lesson page's buttons open ``book/lessons/NAME.ipynb`` on the branch that
``book/publish_notebooks.py`` writes (``$BOOK_NOTEBOOKS_BRANCH``, default ``notebooks``) of the
book's public repository: ``$BOOK_REPOSITORY_URL``, else the ``origin`` remote. Colab opens
notebooks only from GitHub, so the buttons need a GitHub repository.

Run by build.sh: prints the configuration file to build with on stdout, and one line on stderr
saying whether the buttons are on. With a repository, that file is ``book/_build/launch_config.yml``:
``_config.yml`` plus the Binder and Colab addresses and ``repository: url/branch/path_to_book``,
rewritten only when it changes (the build cache keeps working). Without one, it is
``book/_config.yml`` itself: the book builds as it would with no launch buttons at all.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
CONFIG = BOOK / "_config.yml"
LAUNCH_CONFIG = BOOK / "_build" / "launch_config.yml"
BINDERHUB_URL = "https://mybinder.org"
COLAB_URL = "https://colab.research.google.com"
DEFAULT_BRANCH = "notebooks"
#: the book's folder in the repository, so a page ``lessons/NAME`` opens ``book/lessons/NAME.ipynb``
PATH_TO_BOOK = "book"

_GITHUB = re.compile(
    r"(?:https://github\.com/|git@github\.com:|ssh://git@github\.com/)"
    r"(?P<org>[\w.-]+)/(?P<repo>[\w.-]+?)(?:\.git)?/?"
)
#: what git can push to: a URL with a scheme, or scp-like ``user@host:path``
_GIT_URL = re.compile(r"(?:(?:https?|ssh|git|file)://\S+|[\w.-]+@[\w.-]+:\S+)")


@dataclass(frozen=True)
class Repository:
    """The book's public repository and the branch holding the lesson notebooks."""

    url: str  # as given: where publish_notebooks.py pushes
    branch: str
    source: str  # "BOOK_REPOSITORY_URL" or "origin": where the URL came from

    @property
    def github(self) -> str | None:
        """``https://github.com/ORG/REPO``, or None when the repository is not on GitHub."""
        match = _GITHUB.fullmatch(self.url)
        return f"https://github.com/{match['org']}/{match['repo']}" if match else None

    def notebook_path(self, page: str) -> str:
        """The notebook a page (``lessons/NAME``) opens, relative to the repository root."""
        return f"{PATH_TO_BOOK}/{page}.ipynb"


def _origin(root: Path) -> str | None:
    out = subprocess.run(
        ["git", "-C", str(root), "remote", "get-url", "origin"], capture_output=True, text=True
    )
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def repository(environ: dict | None = None, root: Path = ROOT) -> Repository | None:
    """The repository from ``$BOOK_REPOSITORY_URL``, else ``origin``; None when neither is set.

    Raises ValueError naming the value when ``$BOOK_REPOSITORY_URL`` is not a git URL or the
    branch is not a branch name.
    """
    environ = os.environ if environ is None else environ
    url, source = environ.get("BOOK_REPOSITORY_URL", "").strip(), "BOOK_REPOSITORY_URL"
    if not url:
        url, source = _origin(root), "origin"
    if not url:
        return None
    if source == "BOOK_REPOSITORY_URL" and not _GIT_URL.fullmatch(url):
        raise ValueError(
            f"BOOK_REPOSITORY_URL must be a git URL (https://github.com/ORG/REPO, git@github.com:ORG/REPO.git, "
            f"file:///path/to/repo.git …), got {url!r}"
        )
    branch = environ.get("BOOK_NOTEBOOKS_BRANCH", "").strip() or DEFAULT_BRANCH
    valid = subprocess.run(["git", "check-ref-format", "--branch", branch], capture_output=True)
    if valid.returncode != 0 or branch.startswith("-"):
        raise ValueError(f"BOOK_NOTEBOOKS_BRANCH must be a branch name, got {branch!r}")
    return Repository(url=url.rstrip("/"), branch=branch, source=source)


def launch_config(repo: Repository) -> dict:
    """``_config.yml`` with the Binder and Colab buttons pointing at ``repo``'s branch."""
    config = yaml.safe_load(CONFIG.read_text())
    config["launch_buttons"].update(binderhub_url=BINDERHUB_URL, colab_url=COLAB_URL)
    config["repository"] = {"url": repo.github, "branch": repo.branch, "path_to_book": PATH_TO_BOOK}
    # _config.yml sets sphinx.config.html_theme_options, which replaces the theme options
    # Jupyter Book derives from launch_buttons and repository: repeat them there
    config["sphinx"]["config"]["html_theme_options"].update(
        launch_buttons=config["launch_buttons"],
        repository_url=repo.github,
        repository_branch=repo.branch,
        path_to_docs=PATH_TO_BOOK,
    )
    # jupyter-book finds local extensions relative to the configuration file
    extensions = config.get("sphinx", {}).get("local_extensions", {})
    for name, path in extensions.items():
        extensions[name] = os.path.relpath(BOOK / path, LAUNCH_CONFIG.parent)
    return config


def main(environ: dict | None = None, root: Path = ROOT) -> int:
    """Print the configuration file to build with; say on stderr whether buttons are on."""
    try:
        repo = repository(environ, root)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if repo is None:
        why = "BOOK_REPOSITORY_URL is not set and the repository has no origin remote"
    elif repo.github is None and repo.source == "origin":
        why = f"origin ({repo.url}) is not on GitHub; set BOOK_REPOSITORY_URL"
    elif repo.github is None:
        print(
            "error: BOOK_REPOSITORY_URL must be a GitHub repository (Colab opens notebooks "
            f"only from GitHub): https://github.com/ORG/REPO, got {repo.url!r}",
            file=sys.stderr,
        )
        return 2
    else:
        why = None
    if why:
        print(f"launch buttons off: {why}", file=sys.stderr)
        print(CONFIG)
        return 0
    text = "# generated by book/launch.py from _config.yml: do not edit\n" + yaml.safe_dump(
        launch_config(repo), sort_keys=False
    )
    LAUNCH_CONFIG.parent.mkdir(parents=True, exist_ok=True)
    if not LAUNCH_CONFIG.exists() or LAUNCH_CONFIG.read_text() != text:
        LAUNCH_CONFIG.write_text(text)
    print(
        f"launch buttons on: Colab and Binder open {PATH_TO_BOOK}/lessons/NAME.ipynb on branch "
        f"{repo.branch} of {repo.github} (publish it: make publish-notebooks)",
        file=sys.stderr,
    )
    print(LAUNCH_CONFIG)
    return 0


if __name__ == "__main__":
    sys.exit(main())
