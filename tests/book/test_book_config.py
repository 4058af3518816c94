"""The book's configuration, read without building: pinned assets, nothing from a CDN.

(test_book.py holds the other configuration checks and every check of a real build.)
"""

import json
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"


def _config():
    return yaml.safe_load((BOOK / "_config.yml").read_text())


def test_mathjax_is_one_exact_3x_version_and_the_lock_agrees():
    pinned = json.loads((BOOK / "package.json").read_text())["dependencies"]["mathjax"]
    assert re.fullmatch(r"3\.\d+\.\d+", pinned), f"pin an exact mathjax@3, got {pinned!r}"
    lock = json.loads((BOOK / "package-lock.json").read_text())["packages"]
    assert lock[""]["dependencies"]["mathjax"] == pinned
    assert lock["node_modules/mathjax"]["version"] == pinned


def test_the_mathjax_file_the_pages_load_is_one_build_sh_copies():
    mathjax_path = _config()["sphinx"]["config"]["mathjax_path"]
    assert mathjax_path.startswith("mathjax/")  # under html_static_path, served as _static/
    assert f'cp "$src/{mathjax_path.removeprefix("mathjax/")}"' in (BOOK / "build.sh").read_text()


def test_build_reports_every_warning_then_fails():
    script = (BOOK / "build.sh").read_text()
    assert ".venv/bin/jupyter-book build book --warningiserror --keep-going" in script


def test_build_takes_its_configuration_from_launch_py():
    """Launch buttons: the derived config when the repository is known, else _config.yml."""
    script = (BOOK / "build.sh").read_text()
    assert 'config="$(.venv/bin/python book/launch.py)"' in script
    assert '--config "$config"' in script


def test_execution_has_a_bounded_timeout():
    assert 0 < _config()["execute"]["timeout"] <= 1800


def test_features_that_load_from_a_cdn_are_off():
    config = _config()
    assert config["launch_buttons"]["thebe"] is False
    assert not config["launch_buttons"]["binderhub_url"]
    assert not config["launch_buttons"]["colab_url"]
    sphinx = config["sphinx"]
    assert sphinx["config"]["nb_ipywidgets_js"] == {}  # else require.js from a CDN
    # offline_book drops the Thebe scripts; notebook_download makes the download links save
    assert sphinx["local_extensions"] == {"offline_book": "_ext", "notebook_download": "_ext"}
    for name in sphinx["local_extensions"]:
        assert (BOOK / "_ext" / f"{name}.py").exists()


def test_generated_files_are_git_ignored():
    generated = ["book/lessons/any.ipynb", "book/_assets/mathjax/x.js", "book/node_modules/x"]
    for path in generated:
        result = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT)
        assert result.returncode == 0, f"{path} is not git-ignored"
