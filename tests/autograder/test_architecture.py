"""The layering ARCHITECTURE.md states, checked on the import graph of the source itself.

The graph is read from the code (``ast``), not from ``sys.modules``: every ``import`` and
``from ... import`` anywhere in a module counts, also those inside functions (a lazy import is
still a dependency), relative ones resolved against the module's package. A name imported
``from`` a package counts as its submodule when one of that name exists. The scripts that run
inside the sandbox import their siblings by bare name (``import wire``): a bare name counts as
the sibling module of that name in the importer's folder when there is one. A package's
``__init__`` is a module like any other; importing ``a.b.c`` is an edge to ``a.b.c`` only (not to
``a`` and ``a.b``, whose ``__init__`` Python runs first: a facade that re-exports its
submodules is no cycle).

Rules:

- no import cycle among the modules of autograder and of coursekit (Tarjan's strongly
  connected components: every component has one module and no edge to itself);
- coursekit imports only the standard library, numpy and itself at import time: a framework
  (torch, tensorflow, keras, sklearn) or any other library only inside a function. What runs
  at import time is read from the same tree: every import outside a ``def`` or ``lambda``
  (the module's body, a class body, an ``if`` or ``try`` at the top);
- ``coursekit`` never imports ``autograder`` (the reference implementation knows no grader);
- ``autograder/sandbox/inside/`` (the only folder mounted into the sandbox) imports nothing from
  ``autograder`` outside itself and nothing from ``coursekit``, neither by dotted nor by bare
  name;
- the term tools (``autograder/term/``) may import the grading core; the grading core
  (``autograder/grading/``) never imports the term tools;
- the sandbox's host side and its inside import neither the grading core nor the term tools.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("autograder", "coursekit")


@dataclass(frozen=True)
class Module:
    """One module of the repository's packages: its dotted name and its file."""

    name: str
    path: Path

    @property
    def is_package(self) -> bool:
        return self.path.name == "__init__.py"

    @property
    def package(self) -> str:
        """The package a relative import of this module is resolved against."""
        return self.name if self.is_package else self.name.rpartition(".")[0]


def modules(root: Path = ROOT) -> dict[str, Module]:
    """Every module of :data:`PACKAGES` under ``root``, by dotted name."""
    found = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if "__pycache__" in parts or any(not p.isidentifier() for p in parts):
                continue
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = Module(name, path)
    return found


def _resolve(name: str, known: dict[str, Module]) -> str | None:
    """The known module ``name`` is, or the innermost known package that holds it."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def import_nodes(module: Module, at_import_time: bool = False) -> Iterator[ast.stmt]:
    """Every ``import`` and ``from ... import`` statement of ``module``; with
    ``at_import_time``, only those Python runs when it imports the module: none inside a
    function's body or a lambda (a class body runs; so do ``if`` and ``try`` blocks)."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), str(module.path))
    lazy = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif not (at_import_time and isinstance(node, lazy)):
            stack.extend(reversed(list(ast.iter_child_nodes(node))))  # in source order


def imports_of(module: Module, known: dict[str, Module]) -> set[str]:
    """The known modules ``module`` imports (see the module's docstring for the reading)."""
    folder = module.path.parent
    found: set[str] = set()
    for node in import_nodes(module):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                sibling = _sibling(alias.name, module, folder, known)
                targets.append(sibling or alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = _sibling(node.module, module, folder, known) or node.module
            for alias in node.names:  # a submodule of that name, else a name of ``source``
                sub = f"{source}.{alias.name}"
                targets.append(sub if sub in known else source)
        for target in targets:
            resolved = _resolve(target, known)
            if resolved is not None and resolved != module.name:
                found.add(resolved)
            elif resolved == module.name and target == module.name:
                found.add(resolved)  # a module importing itself is a cycle of one
    return found


def _sibling(name: str, module: Module, folder: Path, known: dict[str, Module]) -> str | None:
    """The module a bare ``import name`` finds when a script puts its own folders on
    ``sys.path`` (the sandbox's scripts): a module of that name beside the importer, else in a
    folder just below it or just above it, within the packages. None for any other name."""
    top = name.split(".")[0]
    if not top or top == module.name.rpartition(".")[2]:
        return None
    places = [folder, *sorted(p for p in folder.iterdir() if p.is_dir()), folder.parent]
    for place in places:
        if (place / f"{top}.py").is_file():
            found = [m for m in known.values() if m.path == (place / f"{top}.py")]
            if found:
                rest = name.split(".")[1:]
                return ".".join([found[0].name, *rest])
    return None


def graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module -> the modules it imports, for every module of the packages under ``root``."""
    known = modules(root)
    return {name: imports_of(module, known) for name, module in known.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles: strongly connected components of more than one module, or of one
    that imports itself (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))
    return found


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


#: (who, what they may not import, why): the layering rules of ARCHITECTURE.md
FORBIDDEN = [
    ("coursekit", "autograder", "the reference implementation knows no grader"),
    ("autograder.sandbox.inside", "autograder", "the sandbox's inside imports only itself"),
    ("autograder.sandbox.inside", "coursekit", "the reference never runs in the sandbox"),
    ("autograder.grading", "autograder.term", "the grading core never imports the term tools"),
    ("autograder.sandbox", "autograder.grading", "the sandbox knows nothing of grading"),
    ("autograder.sandbox", "autograder.term", "the sandbox knows nothing of the term"),
]


def violations(edges: dict[str, set[str]]) -> list[str]:
    """Every edge that breaks a rule of :data:`FORBIDDEN`, as ``who -> what (why)``."""
    out = []
    for who, what, why in FORBIDDEN:
        for module, targets in sorted(edges.items()):
            if not _under(module, who):
                continue
            for target in sorted(targets):
                allowed_inside = who == "autograder.sandbox.inside" and _under(target, who)
                if _under(target, what) and not allowed_inside:
                    out.append(f"{module} -> {target} ({why})")
    return out


#: what a module of coursekit may import while it is imported, besides the standard library
IMPORT_TIME_LIBRARIES = frozenset({"coursekit", "numpy"})


def import_time_breaches(root: Path = ROOT) -> list[str]:
    """Every import of coursekit's modules that Python runs at import time and that names a
    library other than the standard library, numpy and coursekit itself (a framework: torch,
    tensorflow, keras, sklearn), as ``module imports name at import time (line n)``."""
    out = []
    for name, module in sorted(modules(root).items()):
        if not _under(name, "coursekit"):
            continue
        for node in import_nodes(module, at_import_time=True):
            if isinstance(node, ast.ImportFrom) and node.level:
                continue  # relative: coursekit itself
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                names = [alias.name for alias in node.names]
            for imported in names:
                top = imported.split(".")[0]
                if top in sys.stdlib_module_names or top in IMPORT_TIME_LIBRARIES:
                    continue
                out.append(f"{name} imports {imported} at import time (line {node.lineno})")
    return out


# -- the repository ---------------------------------------------------------------------------

EDGES = graph()


def test_the_graph_sees_the_packages_and_their_lazy_imports():
    """The walk finds the folders and the imports a function makes (not only the top's)."""
    assert {"autograder.grading.grade", "autograder.term.release", "coursekit.xor"} <= set(EDGES)
    assert "autograder.sandbox.inside.harness" in EDGES
    # cli imports grade inside a function only (no import of it at the module's top)
    assert "autograder.grading.grade" in EDGES["autograder.cli"]
    top = ast.parse((ROOT / "autograder" / "cli.py").read_text()).body
    assert not any(
        isinstance(n, ast.ImportFrom) and (n.module or "").startswith("autograder.grading")
        for n in top
    )
    # the harness imports its siblings by bare name: the graph resolves them
    assert {
        "autograder.sandbox.inside.wire",
        "autograder.sandbox.inside.models",
    } <= EDGES["autograder.sandbox.inside.harness"]


def test_coursekit_is_in_the_graph_with_its_lazy_imports():
    """A function-level import of coursekit counts: ``fit_numpy`` imports the optimizers
    inside its body only."""
    assert "coursekit.optim" in EDGES["coursekit.mlp.numpy_mlp"]
    module = modules()["coursekit.mlp.numpy_mlp"]

    def optim_imports(at_import_time: bool) -> list[ast.stmt]:
        return [
            n
            for n in import_nodes(module, at_import_time)
            if isinstance(n, ast.ImportFrom) and "optim" in {a.name for a in n.names}
        ]

    assert optim_imports(at_import_time=False) and not optim_imports(at_import_time=True)


def test_no_import_cycle_in_autograder_or_coursekit():
    found = cycles(EDGES)
    assert found == [], "import cycles: " + "; ".join(" <-> ".join(c) for c in found)


def test_coursekit_imports_only_numpy_at_import_time():
    """``import coursekit`` loads no framework: torch, tensorflow, keras and sklearn are
    imported inside the functions that use them (the rule is not empty: the Keras, PyTorch
    and scikit-learn MLPs do import their frameworks, in their functions)."""
    assert import_time_breaches() == []
    lazy = set()
    for name in ("keras_mlp", "torch_mlp", "sklearn_mlp"):
        module = modules()[f"coursekit.mlp.{name}"]
        for node in import_nodes(module):
            if isinstance(node, ast.Import):
                lazy |= {alias.name.split(".")[0] for alias in node.names}
            elif node.module:
                lazy.add(node.module.split(".")[0])
    assert {"keras", "torch", "sklearn"} <= lazy


def test_the_layering_rules_hold():
    assert violations(EDGES) == []


def test_importing_every_module_of_coursekit_loads_no_framework():
    """What the syntax tree cannot see (an ``importlib`` call, a library that pulls a framework
    in) shows in a fresh interpreter that imports every module of coursekit."""
    code = (
        "import importlib, pkgutil, sys, coursekit\n"
        "names = [m.name for m in pkgutil.walk_packages(coursekit.__path__, 'coursekit.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(len(names), sorted({'torch', 'tensorflow', 'keras', 'sklearn'} & set(sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    count, loaded = out.stdout.split(" ", 1)
    assert int(count) == len([m for m in modules() if m.startswith("coursekit.")])
    assert loaded.strip() == "[]"


def test_only_the_inside_folder_is_mounted_into_the_sandbox():
    """The namespaces mode binds ``INSIDE`` at ``/harness``; what runs there is that folder."""
    from autograder.sandbox import base

    assert base.INSIDE == ROOT / "autograder" / "sandbox" / "inside"
    assert (base.INSIDE / "harness.py").is_file()
    namespaces = (ROOT / "autograder" / "sandbox" / "namespaces.py").read_text()
    assert '"harness": str(INSIDE)' in namespaces
    assert '"harness": str(HERE)' not in namespaces


# -- the checker itself, on small packages written here ----------------------------------------


def _write(root: Path, files: dict[str, str]) -> dict[str, set[str]]:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in PACKAGES:
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return graph(root)


def test_a_cycle_through_a_function_level_import_is_found(tmp_path):
    """The cycle ``Sandbox.__new__`` made (base imported its subclasses inside a method)."""
    edges = _write(
        tmp_path,
        {
            "autograder/sandbox/__init__.py": "",
            "autograder/sandbox/base.py": (
                "class Sandbox:\n    def __new__(cls):\n"
                "        from autograder.sandbox import forked\n        return forked\n"
            ),
            "autograder/sandbox/forked.py": "from autograder.sandbox.base import Sandbox\n",
        },
    )
    assert cycles(edges) == [["autograder.sandbox.base", "autograder.sandbox.forked"]]


def test_relative_and_from_package_imports_resolve_to_modules(tmp_path):
    edges = _write(
        tmp_path,
        {
            "autograder/grading/__init__.py": "",
            "autograder/grading/a.py": "from . import b\n",
            "autograder/grading/b.py": "from .a import x\n",
            "autograder/term/__init__.py": "",
            "autograder/term/t.py": "from autograder.grading import a\n",
        },
    )
    assert edges["autograder.grading.a"] == {"autograder.grading.b"}  # the submodule only
    assert edges["autograder.grading.b"] == {"autograder.grading.a"}
    assert edges["autograder.term.t"] == {"autograder.grading.a"}
    assert cycles(edges) == [["autograder.grading.a", "autograder.grading.b"]]
    assert violations(edges) == []  # term -> grading is allowed


@pytest.mark.parametrize(
    "files, broken",
    [
        (
            {"coursekit/m.py": "def f():\n    import autograder.names\n"},
            "coursekit.m -> autograder (the reference implementation knows no grader)",
        ),
        (
            {
                "autograder/grading/__init__.py": "",
                "autograder/grading/g.py": "",
                "autograder/term/__init__.py": "from autograder.grading import g\n",
                "autograder/grading/h.py": "from autograder.term import x\n",
            },
            "autograder.grading.h -> autograder.term (the grading core never imports the term tools)",
        ),
        (
            {
                "autograder/sandbox/__init__.py": "",
                "autograder/sandbox/lockdown.py": "",
                "autograder/sandbox/inside/__init__.py": "",
                "autograder/sandbox/inside/h.py": "from autograder.sandbox import lockdown\n",
            },
            "autograder.sandbox.inside.h -> autograder.sandbox.lockdown (the sandbox's inside "
            "imports only itself)",
        ),
        (
            {
                "autograder/sandbox/__init__.py": "",
                "autograder/sandbox/inside/__init__.py": "",
                "autograder/sandbox/inside/h.py": "import coursekit\n",
            },
            "autograder.sandbox.inside.h -> coursekit (the reference never runs in the sandbox)",
        ),
    ],
    ids=["coursekit-imports-grader", "grading-imports-term", "inside-imports-host", "inside-ck"],
)
def test_each_rule_catches_its_breach(tmp_path, files, broken):
    """Each rule, broken once in a small package, is reported with the edge and its reason."""
    assert broken in violations(_write(tmp_path, files))


def test_bare_imports_resolve_as_the_sandbox_scripts_find_them(tmp_path):
    """Beside the importer, below it (the zygote finds the harness in ``inside/``) or above
    it: a harness that imported a host-side module by bare name breaks the inside's rule."""
    edges = _write(
        tmp_path,
        {
            "autograder/sandbox/__init__.py": "",
            "autograder/sandbox/lockdown.py": "",
            "autograder/sandbox/zygote.py": "import lockdown\nimport harness\n",
            "autograder/sandbox/inside/__init__.py": "",
            "autograder/sandbox/inside/wire.py": "import numpy\n",
            "autograder/sandbox/inside/harness.py": "import wire\nimport lockdown\nimport os\n",
        },
    )
    assert edges["autograder.sandbox.zygote"] == {
        "autograder.sandbox.lockdown",
        "autograder.sandbox.inside.harness",
    }
    assert edges["autograder.sandbox.inside.harness"] == {
        "autograder.sandbox.inside.wire",
        "autograder.sandbox.lockdown",
    }
    assert violations(edges) == [
        "autograder.sandbox.inside.harness -> autograder.sandbox.lockdown (the sandbox's "
        "inside imports only itself)"
    ]


def test_a_coursekit_cycle_through_a_function_level_import_is_found(tmp_path):
    """The cycle coursekit's MLP constraints made: a constraint that recognised a model with a
    function of the module that imports the constraints."""
    edges = _write(
        tmp_path,
        {
            "coursekit/mlp/__init__.py": "",
            "coursekit/mlp/_args.py": (
                "class Model:\n    def check(self, m):\n"
                "        from coursekit.mlp.weights import _framework\n        return _framework(m)\n"
            ),
            "coursekit/mlp/weights.py": "from coursekit.mlp._args import Model\n",
        },
    )
    assert cycles(edges) == [["coursekit.mlp._args", "coursekit.mlp.weights"]]


def test_an_import_that_runs_at_import_time_is_a_breach_wherever_it_sits(tmp_path):
    """A framework imported in the module's body, a class body, a ``try`` or an ``if`` runs
    when the module is imported; one inside a function or a lambda runs when it is called."""
    _write(
        tmp_path,
        {
            "coursekit/eager.py": (
                "import json\nimport numpy as np\nfrom . import lazy\n"
                "from tensorflow import keras\n"
                "class Net:\n    import torch.nn as nn\n"
                "try:\n    import sklearn.metrics\nexcept ImportError:\n    pass\n"
                "if True:\n    import pandas\n"
            ),
            "coursekit/lazy.py": (
                "def fit():\n    import torch\n    from sklearn import neural_network\n"
                "class Net:\n    def build(self):\n        import keras\n"
                "f = lambda: __import__('tensorflow')\n"
            ),
        },
    )
    assert import_time_breaches(tmp_path) == [
        "coursekit.eager imports tensorflow at import time (line 4)",
        "coursekit.eager imports torch.nn at import time (line 6)",
        "coursekit.eager imports sklearn.metrics at import time (line 8)",
        "coursekit.eager imports pandas at import time (line 12)",
    ]
