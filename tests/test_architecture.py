"""The library's layering, checked statically (ast) and by importing each part alone.

Layers, lowest first; a module may import its own layer and the layers below, never one
above (``if TYPE_CHECKING:`` imports excepted: they never run)::

    foundation    errors, notices, _compat, devices, fastpath, seeds, images (and gda_core itself)
    runs          run store, workers, executors (knows no model)
    datasets
    samplers      oversampling, synthesizers (GANs subclass oversampling.base; the one
                  method registry, oversampling.registry, imports both)
    classifiers
    metrics
    optimization  dual response surfaces and Pareto algorithms (models of their own)
    viz           figures (experiments render them into run folders, so viz is below)
    experiments
    replays
    cli           and gda_core.__main__; the dashboard (app.py, pages/) sits above all

Besides: no import cycle among modules at import time; ``oversampling.base`` and
``oversampling.params`` (the contract and the parameter specs) import nothing from
``synthesizers``, and only the registry does; the library never imports Streamlit or
``pages``; and no module imports another module's underscore name.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "gda_core"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "errors", "notices", "_compat", "devices", "fastpath", "seeds", "images"),
    ("runs",),
    ("datasets",),
    ("oversampling", "synthesizers"),
    ("classifiers",),
    ("metrics",),
    ("optimization",),
    ("viz",),
    ("experiments",),
    ("replays",),
    ("cli", "__main__"),
)
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}
ALLOWED = {unit: {u for u, r in RANK.items() if r <= rank} for unit, rank in RANK.items()}
"""Unit -> the units it may import: its own layer and every layer below."""


# ------------------------------------------------------------------------- the scanner
def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES: dict[str, Path] = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def unit_of(module: str) -> str:
    """``gda_core.synthesizers.base`` -> ``synthesizers``; ``gda_core`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _walk(node: ast.AST, *, into_functions: bool) -> Iterator[tuple[ast.AST, bool]]:
    """Import statements under ``node`` with whether they run at import time, skipping
    the bodies of ``if TYPE_CHECKING:`` (and function bodies unless ``into_functions``)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield from _walk_one(other, into_functions=into_functions)
            continue
        yield from _walk_one(child, into_functions=into_functions)


def _walk_one(node: ast.AST, *, into_functions: bool) -> Iterator[tuple[ast.AST, bool]]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node, True
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        if into_functions:
            yield from ((n, False) for n, _ in _walk(node, into_functions=True))
    else:
        yield from _walk(node, into_functions=into_functions)


def imports_of(module: str) -> list[tuple[str, list[str], int, bool]]:
    """``(imported module, names, line, at import time)`` of every ``gda_core`` import
    that can run: module level and inside functions, not under ``if TYPE_CHECKING:``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    package = module if is_package(module) else module.rpartition(".")[0]
    out = []
    for node, at_import in _walk(tree, into_functions=True):
        if isinstance(node, ast.Import):
            out += [(a.name, [], node.lineno, at_import) for a in node.names]
        else:
            target = node.module or ""
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, target] if target else base)
            out.append((target, [a.name for a in node.names], node.lineno, at_import))
    return [item for item in out if item[0] == "gda_core" or item[0].startswith("gda_core.")]


def executed(target: str, names: list[str]) -> list[str]:
    """The modules an import runs: the target, its packages, and submodules named in a
    ``from package import submodule``."""
    parts = target.split(".")
    out = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
    out += [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
    return [m for m in out if m in MODULES]


def import_time_graph() -> dict[str, set[str]]:
    """Module -> modules its import runs (packages it is inside of are already running)."""
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        parts = module.split(".")
        running = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        graph[module] = {m for target, names, _, at_import in imports_of(module) if at_import
                         for m in executed(target, names) if m not in running}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


# ------------------------------------------------------------------------- static checks
def test_every_unit_has_a_layer():
    units = {unit_of(m) for m in MODULES}
    assert units <= set(RANK), f"put {sorted(units - set(RANK))} in LAYERS"


def test_no_module_imports_a_higher_layer():
    wrong = [f"{m}:{line} imports {target} ({unit_of(m)} may not use {unit_of(target)})"
             for m in MODULES for target, _, line, _ in imports_of(m)
             if unit_of(target) not in ALLOWED[unit_of(m)]]
    assert not wrong, "\n".join(wrong)


def test_no_import_cycle_at_import_time():
    cycle = find_cycle(import_time_graph())
    assert cycle is None, " -> ".join(cycle or [])


def test_the_sampler_contract_is_a_leaf():
    # the base classes and parameter specs import nothing from synthesizers; of the
    # oversampling package only the registry does (lazily handed out by its __init__)
    users = sorted({m for m in MODULES if unit_of(m) == "oversampling"
                    for target, _, _, _ in imports_of(m) if unit_of(target) == "synthesizers"})
    assert users == ["gda_core.oversampling.registry"]
    graph = import_time_graph()
    for leaf in ("gda_core.oversampling.base", "gda_core.oversampling.params"):
        seen, todo = set(), [leaf, "gda_core.oversampling"]
        while todo:
            module = todo.pop()
            if module not in seen:
                seen.add(module)
                todo.extend(graph[module])
        assert not {m for m in seen if unit_of(m) == "synthesizers"}, leaf


def test_the_library_never_imports_the_dashboard():
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not [n for n in names if n.split(".")[0] in ("streamlit", "pages", "app")], \
                module


def test_no_module_imports_an_underscore_name_of_another():
    wrong = []
    for module in MODULES:
        for target, names, line, _ in imports_of(module):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")
                       and f"{target}.{n}" not in MODULES]
            if private and target != module:
                wrong.append(f"{module}:{line} imports {', '.join(private)} from {target}")
    assert not wrong, "\n".join(wrong)


def test_the_scanner_sees_what_it_checks():
    # a module-level import, one in a function, and one under TYPE_CHECKING (left out)
    found = {(t, at) for t, _, _, at in imports_of("gda_core.classifiers.factory")}
    assert ("gda_core.classifiers.trainer", True) in found
    assert not any(t.startswith("gda_core.experiments") for t, _ in found)
    lazy = {(t, at) for t, _, _, at in imports_of("gda_core.synthesizers.base")}
    assert ("gda_core.oversampling.registry", False) in lazy
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


# --------------------------------------------------------------- each part, imported alone
_LOADED = ("import importlib, json, sys; importlib.import_module({name!r}); "
           "print(json.dumps(sorted({{m.split('.')[1] for m in sys.modules "
           "if m.startswith('gda_core.')}})))")

ALONE = ["gda_core", "gda_core.errors", "gda_core.devices", "gda_core.seeds",
         "gda_core.images", "gda_core.runs", "gda_core.datasets",
         "gda_core.oversampling", "gda_core.oversampling.base", "gda_core.oversampling.params",
         "gda_core.synthesizers", "gda_core.oversampling.registry", "gda_core.classifiers",
         "gda_core.metrics", "gda_core.optimization", "gda_core.viz", "gda_core.experiments",
         "gda_core.replays", "gda_core.cli"]

ORDERS = {
    "registry first": "import gda_core.oversampling.registry as r; import gda_core.synthesizers "
                      "as s; assert s.SYNTHESIZERS is r.SYNTHESIZERS",
    "a GAN first": "import gda_core.synthesizers.threeplayer.model; from gda_core.oversampling "
                   "import OVERSAMPLERS, make_oversampler; assert 'adso+q' in OVERSAMPLERS",
    "synthesizers first": "from gda_core.synthesizers import SYNTHESIZERS; "
                          "from gda_core.oversampling import METHODS; "
                          "assert set(SYNTHESIZERS) < set(METHODS)",
}


def _python(code: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.fixture(scope="module")
def loaded_alone() -> dict[str, set[str]]:
    """Name -> the units loaded by importing it in a fresh interpreter (run side by side)."""
    procs = {name: _python(_LOADED.format(name=name)) for name in ALONE}
    out = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, f"import {name} failed:\n{stderr}"
        out[name] = set(json.loads(stdout.strip().splitlines()[-1]))
    return out


@pytest.mark.parametrize("name", ALONE)
def test_importing_a_part_alone_loads_only_its_layers(name, loaded_alone):
    unit = unit_of(name)
    assert loaded_alone[name] <= ALLOWED[unit], sorted(loaded_alone[name] - ALLOWED[unit])


def test_the_contract_and_the_data_load_no_model(loaded_alone):
    for name in ("gda_core.oversampling.base", "gda_core.oversampling.params",
                 "gda_core.oversampling"):
        assert "synthesizers" not in loaded_alone[name], name
    assert loaded_alone["gda_core.datasets"].isdisjoint(
        {"oversampling", "synthesizers", "classifiers", "metrics", "experiments", "viz",
         "optimization", "replays", "cli"})


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_the_registry_needs_no_import_order(order):
    proc = _python(ORDERS[order])
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr


PAGE_SCRIPTS = sorted([*REPO.joinpath("pages").glob("[!_]*.py"), REPO / "app.py"])
"""Scripts Streamlit runs as pages (``_*.py`` are imported helpers, which it does not)."""


@pytest.mark.parametrize("script", PAGE_SCRIPTS, ids=lambda p: p.name)
def test_page_scripts_hold_no_bare_strings(script):
    # Streamlit's "magic" draws every bare expression of a page script, so a string meant
    # as a constant's docstring would appear on the page (it once did on the Train page).
    tree = ast.parse(script.read_text())
    bare = [node.lineno for node in tree.body[1:]
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)]
    assert not bare, f"{script.name}: bare strings at lines {bare} would be drawn on the page"


BENCH_SCRIPTS = sorted(REPO.joinpath("bench").glob("[!_]*.py"))


@pytest.mark.parametrize("script", BENCH_SCRIPTS, ids=lambda p: p.name)
def test_bench_scripts_measure_under_the_products_openmp_setting(script):
    # a benchmark that trains in its own process must set what app.py, the CLI and the
    # workers set before torch is imported (it once measured a loop 1.3x faster than the
    # workers ran); scripts that only start other processes or train nothing are exempt
    tree = ast.parse(script.read_text())
    first_torch = None
    setting = None
    for node in tree.body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""])
            loads_torch = any(n == "torch" or n.startswith("torch.") or (
                n.startswith("gda_core") and not n.startswith("gda_core._compat"))
                for n in names)
            if loads_torch and first_torch is None:
                first_torch = node.lineno
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
              and getattr(node.value.func, "id", "") == "prefer_short_spinning"
              and setting is None):
            setting = node.lineno
    if first_torch is None or script.name in {"concurrency.py", "drso_speed.py",
                                              "first_grid.py"}:
        return  # no torch here, or its trainings run in processes it starts
    assert setting is not None and setting < first_torch, (
        f"{script.name} imports torch (line {first_torch}) without prefer_short_spinning() "
        "before it")
