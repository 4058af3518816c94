#!/usr/bin/env bash
# Build the book into book/_build/html, fully viewable offline from file://.
#  1. MathJax 3 from npm (book/package.json, package-lock.json) -> book/_assets/mathjax
#     (served as _static/mathjax; not in book/_static, whose .js files Jupyter Book would
#     load on every page)
#  2. the lesson sources notebooks/lessons/*.md -> book/lessons/*.ipynb (book/prepare_lessons.py)
#  3. the configuration (book/launch.py): _config.yml, plus Colab and Binder launch buttons when
#     the book's repository is known ($BOOK_REPOSITORY_URL, else a GitHub origin remote)
#  4. jupyter-book build, executing the lessons (cached), failing on any warning or cell error;
#     a lesson that fails (a false claim, a wrong exercise solution) is named with its error,
#     and its page is replaced by one that says so (book/failed_page.py)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
cd "$root"

# (re)install when node_modules is missing or holds another MathJax than package.json pins
pinned="$(node -p 'require("./book/package.json").dependencies.mathjax')"
installed="$(node -p 'try { require("./book/node_modules/mathjax/package.json").version } catch (e) { "" }')"
if [ "$installed" != "$pinned" ] || [ ! -f book/node_modules/mathjax/es5/tex-mml-chtml.js ]; then
  npm ci --prefix book --no-audit --no-fund --silent
fi
rm -rf book/_assets/mathjax
mkdir -p book/_assets/mathjax/output
src=book/node_modules/mathjax/es5
cp "$src/tex-mml-chtml.js" book/_assets/mathjax/
cp -r "$src/input" "$src/ui" "$src/a11y" "$src/sre" "$src/adaptors" book/_assets/mathjax/
cp -r "$src/output/chtml" book/_assets/mathjax/output/

.venv/bin/python book/prepare_lessons.py
config="$(.venv/bin/python book/launch.py)"

export PYTHONHASHSEED=0 TF_CPP_MIN_LOG_LEVEL=3 OMP_NUM_THREADS=1
# The kernels' own start-up chatter on stderr (TensorFlow's C++ INFO lines before absl is
# initialised, ipykernel's TCP notice) is not about the book: drop those lines, keep the rest.
# (A pipeline with pipefail: the build's exit status is kept; sed always succeeds.)
noise='^(I0000 |WARNING: All log messages before absl::InitializeLog|\[IPKernelApp\] WARNING \| Kernel is running over TCP)'
started="$(mktemp)"
trap 'rm -f "$started"' EXIT
status=0
{ .venv/bin/jupyter-book build book --warningiserror --keep-going --config "$config" --quiet 2>&1 1>&3 3>&- |
  sed -E "/$noise/d" >&2; } 3>&1 || status=$?
if [ "$status" -ne 0 ]; then
  # A lesson that failed to execute (a false claim: ClaimFailed, a wrong exercise solution:
  # ExerciseFailed, any error) leaves its traceback in reports/NAME.err.log: say its last line
  # here, so the failure names the claim and its numbers.
  # The failed lesson's page would hold the outputs of the cells before the error and none
  # after: it is replaced by a page that says the lesson failed and why (no half-executed
  # page is left to read), and its notebook is touched so that the next build reads and
  # executes it again instead of writing the same page from Sphinx's saved state.
  find book/_build/html/reports -name '*.err.log' -newer "$started" 2>/dev/null | sort |
    while read -r log; do
      name="$(basename "$log" .err.log)"
      last="$(sed -E 's/\x1b\[[0-9;]*m//g' "$log" | grep -v '^[[:space:]]*$' | tail -n 1)"
      echo "lesson $name failed: $last" >&2
      .venv/bin/python book/failed_page.py "$name" "$last"
    done
  exit "$status"
fi

echo "Book built. Open: file://$root/book/_build/html/index.html"
