#!/usr/bin/env bash
# Build the book into book/_build/html, fully viewable offline from file://.
#  1. MathJax 3 from npm (book/package.json, package-lock.json) -> book/_assets/mathjax
#     (served as _static/mathjax; not in book/_static, whose .js files Jupyter Book would
#     load on every page)
#  2. the lesson sources notebooks/lessons/*.md -> book/lessons/*.ipynb (book/prepare_lessons.py)
#  3. jupyter-book build, executing the lessons (cached), failing on any warning or cell error
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

if [ ! -f book/node_modules/mathjax/es5/tex-mml-chtml.js ]; then
  npm ci --prefix book --no-audit --no-fund --silent
fi
rm -rf book/_assets/mathjax
mkdir -p book/_assets/mathjax/output
src=book/node_modules/mathjax/es5
cp "$src/tex-mml-chtml.js" book/_assets/mathjax/
cp -r "$src/input" "$src/ui" "$src/a11y" "$src/sre" "$src/adaptors" book/_assets/mathjax/
cp -r "$src/output/chtml" book/_assets/mathjax/output/

.venv/bin/python book/prepare_lessons.py

export PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=3 OMP_NUM_THREADS=1
.venv/bin/jupyter-book build book --warningiserror --keep-going --quiet

echo "Book built. Open: file://$root/book/_build/html/index.html"
