"""Generate an assignment's ``coursecheck.py``: the shared rules, the runner, its visible checks.

What ships to students is built from the one source at release (as d2l's ``d2l/torch.py`` is
"generated automatically… don't edit"): :func:`coursecheck_text` joins
:mod:`~autograder.assignments.rules`, :mod:`autograder.sandbox.inside.models` (reading a
model's weights), :mod:`~autograder.assignments.runner` and the assignment's own
``visible.py`` into one module, under a "generated, do not edit" header, so a
student's release carries its own assignment's checks and nothing else, and no second copy is
kept equal by hand. The parts are joined by their syntax tree, not by text search:

- each part's docstring, ``from __future__`` line and ``__all__`` are dropped (the module gets
  one of each), and so is every import from this package or another part: what it names must
  be defined by an earlier part (no ``as`` renaming), which :func:`coursecheck_text` verifies;
- a top-level name defined by two parts is refused (one would silently replace the other);
  an import statement repeated word for word is kept once;
- the result must compile, import nothing of the instructor's (``autograder``, ``coursekit``)
  and hold no solution or hidden-test marker (:func:`verify`).

:func:`ship` writes it beside a released notebook; :func:`load` imports it as a module (the
visible checks' tests run exactly what students get).
"""

from __future__ import annotations

import ast
import sys
import types
from pathlib import Path

from autograder.assignments import ROOT, folder

__all__ = ["GenerationError", "coursecheck_text", "load", "ship", "verify"]

#: The shared parts (modules), in order; the assignment's ``visible.py`` comes last. Reading a
#: model's weights lives beside the sandbox's harness, which imports it from there: it is a
#: part only of the assignments whose visible checks import it (:data:`OPTIONAL`).
PARTS = (
    "autograder.assignments.rules",
    "autograder.sandbox.inside.models",
    "autograder.assignments.runner",
)
OPTIONAL = frozenset({"autograder.sandbox.inside.models"})
PACKAGE = "autograder.assignments"
REPO = ROOT.parents[1]
FORBIDDEN_TEXT = (
    "### BEGIN SOLUTION",
    "### BEGIN HIDDEN TESTS",
    "autograder.hidden",
    "autograder.assignments",
)
FORBIDDEN_IMPORTS = ("autograder", "coursekit")

_DOC = '''"""coursecheck: the visible checks of {assignment}, run before you submit.

Generated at release from the course's check sources: do not edit (a new release replaces it).
It needs only numpy (and, to run a whole notebook from a terminal, nbformat, nbclient and
ipykernel, which every Jupyter installation has). It holds no solution and no hidden check:
its inputs are public examples, its expected values are the numbers of those examples only.
The hidden checks run at grading, on other inputs.

In the notebook (Jupyter, JupyterLab, Colab): each check cell calls one check; it prints one
line when the check passes and raises ``CheckFailed`` saying what is wrong and which lesson
section to revisit when it does not. An error in your own code is shown as
``ErrorInYourCode`` with your line and a hint. The last cell, ``summary("{assignment}")``,
says which visible checks passed in this session; ``check_saved()`` runs the notebook as last
saved in a fresh kernel (as the grader will), from a cell.

From a terminal, in the assignment's folder::

    python coursecheck.py {assignment}.ipynb

runs the notebook *as last saved* in a fresh kernel and reports each check; the exit status
is 0 when every visible check passed, 1 when one failed, 2 when the notebook could not be
run. In Colab, upload this file next to the notebook (the Files panel, folder ``/content``),
or mount Google Drive and give the notebook's path:
``!python coursecheck.py /content/drive/MyDrive/{assignment}.ipynb``.
"""
# GENERATED FILE: DO NOT EDIT. Built by `release` from the course's shared check rules, its
# check runner and the visible checks of {assignment}.

from __future__ import annotations
'''


class GenerationError(ValueError):
    """The parts cannot be joined into one module, or the result would leak or not run."""


def _defined(node: ast.stmt) -> list[str]:
    """The top-level names a statement binds (not imports)."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return [node.name]
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    names = []
    for target in targets:
        names += [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
    return names


def _part(path: Path, defined: dict, imports: dict, exported: list) -> str:
    """The text of one part, as it goes into the module (see the module docstring)."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source, str(path))
    drop: set[int] = set()
    label = path.relative_to(REPO).as_posix() if path.is_relative_to(REPO) else path.name

    def cut(node):
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        drop.update(range(first - 1, node.end_lineno))

    for index, node in enumerate(tree.body):
        if index == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            cut(node)  # the part's docstring
        elif isinstance(node, ast.ImportFrom) and node.module == "__future__":
            cut(node)
        elif isinstance(node, ast.ImportFrom) and (
            (node.module or "").startswith(PACKAGE) or node.module in PARTS
        ):
            for alias in node.names:
                if alias.asname or alias.name not in defined:
                    raise GenerationError(
                        f"{label} imports {alias.name!r} from {node.module}, which no earlier "
                        "part defines (or renames it): it cannot be generated into one module"
                    )
            cut(node)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            text = ast.get_source_segment(source, node)
            if (
                node.col_offset == 0
                and text in imports.values()
                and all(imports.get(a.asname or a.name.split(".")[0]) == text for a in node.names)
            ):
                cut(node)  # the same import, word for word, already made
                continue
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound in defined:
                    raise GenerationError(
                        f"{label} imports {bound!r}, a name an earlier part defines"
                    )
                imports[bound] = text
        elif isinstance(node, ast.Assign) and _defined(node) == ["__all__"]:
            exported += ast.literal_eval(node.value)
            cut(node)
        else:
            for name in _defined(node):
                if name in defined or name in imports:
                    where = defined.get(name, "an import")
                    raise GenerationError(
                        f"{label} defines {name!r}, which {where} defines too: rename one"
                    )
                defined[name] = label
    kept = "".join(line for i, line in enumerate(lines) if i not in drop).strip("\n")
    return f"\n\n# == {label} " + "=" * max(3, 92 - len(label)) + f"\n\n{kept}\n"


def coursecheck_text(assignment: str) -> str:
    """The ``coursecheck.py`` of ``assignment``: the shared parts and its visible checks."""
    visible = folder(assignment) / "visible.py"
    defined: dict[str, str] = {}
    imports: dict[str, str] = {}
    exported: list[str] = []
    wanted = {
        node.module
        for node in ast.walk(ast.parse(visible.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
    }
    parts = [part for part in PARTS if part not in OPTIONAL or part in wanted]
    files = [REPO.joinpath(*part.split(".")).with_suffix(".py") for part in parts]
    body = [_part(path, defined, imports, exported) for path in files]
    body.append(_part(visible, defined, imports, exported))
    public = sorted({*exported, *(n for n in defined if n.startswith("check_"))})
    text = (
        _DOC.format(assignment=assignment)
        + "".join(body)
        + f'\n\n__all__ = {public!r}\n\nif __name__ == "__main__":\n    sys.exit(main())\n'
    )
    verify(text, assignment)
    return text


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def verify(text: str, assignment: str) -> None:
    """GenerationError unless ``text`` compiles, imports nothing of the instructor's and holds
    no solution or hidden-test marker."""
    try:
        tree = ast.parse(text, f"coursecheck.py of {assignment}")
    except SyntaxError as exc:
        raise GenerationError(
            f"the coursecheck.py of {assignment} does not compile: {exc}"
        ) from None
    leaks = [marker for marker in FORBIDDEN_TEXT if marker in text]
    leaks += sorted(_imports(tree) & set(FORBIDDEN_IMPORTS))
    if leaks:
        raise GenerationError(f"the coursecheck.py of {assignment} must not ship: it holds {leaks}")


def ship(release_folder: Path, assignment: str) -> Path:
    """Write ``assignment``'s ``coursecheck.py`` into ``release_folder``; return its path."""
    target = Path(release_folder) / "coursecheck.py"
    target.write_text(coursecheck_text(assignment), encoding="utf-8")
    return target


def load(assignment: str, folder: Path | None = None) -> types.ModuleType:
    """The generated ``coursecheck.py`` of ``assignment``, imported as a fresh module: what
    students get, to test and to run. With ``folder`` it is written there first (and runs a
    notebook from there); the module is never left in ``sys.modules``."""
    text = coursecheck_text(assignment)
    path = ship(folder, assignment) if folder is not None else ROOT / assignment / "coursecheck.py"
    module = types.ModuleType("coursecheck")
    module.__file__ = str(path)  # without ``folder``: a name only, never written
    before = sys.modules.get("coursecheck")
    sys.modules["coursecheck"] = module  # dataclasses look their module up while defined
    try:
        exec(compile(text, module.__file__, "exec"), module.__dict__)
    finally:
        if before is None:
            del sys.modules["coursecheck"]
        else:
            sys.modules["coursecheck"] = before
    return module
