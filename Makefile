# Two commands a new user types (see README "Quick start"):
#   make book   -- create .venv if missing, build the Jupyter Book into book/_build/html
#   make test   -- create .venv if missing, run ruff (lint + format check) and the whole test suite
# and one for contributors, between edits:
#   make test-fast -- ruff, then the unit tests of coursekit and the autograder (the `unit`
#                     marker, given in tests/conftest.py): about two minutes on two busy cores
# and one for measured claims:
#   make bench  -- run every script in benchmarks/ and print ratios
# and one for the book's launch buttons (Colab, Binder):
#   make publish-notebooks -- write the lesson notebooks to the branch the buttons open and push
#                             it to $BOOK_REPOSITORY_URL (else origin); see README "The book"

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv book test test-fast lint bench publish-notebooks clean

venv: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# MathJax 3 from npm, pinned by book/package-lock.json: the book serves it, and so does
# formgrader (its test renders math offline), so the tests need it as the book does
MATHJAX := book/node_modules/mathjax/es5/tex-mml-chtml.js

$(MATHJAX): book/package.json book/package-lock.json
	npm ci --prefix book --no-audit --no-fund --silent
	touch $(MATHJAX)

test: lint $(MATHJAX)
	$(PY) -m pytest -n 2 --dist loadfile

test-fast: lint
	$(PY) -m pytest -n 2 -q -m unit tests/coursekit tests/autograder $(wildcard tests/test_*.py)

bench: $(STAMP)
	$(PY) benchmarks/run_all.py

book: $(STAMP)
	bash book/build.sh

publish-notebooks: $(STAMP)
	$(PY) book/publish_notebooks.py

clean:
	rm -rf book/_build book/_static/mathjax node_modules
