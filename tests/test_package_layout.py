"""The package's layout rules, checked from its syntax trees: rooms by job, arrows only downwards.

- no module outside gan_lab/commands/ imports from it, and no import cycle between modules;
- outside gan_lab/runs/, no code names a run-directory file or folder, and none joins paths onto a
  run or sweep directory itself (runs/layout.py owns them);
- no module is over 400 lines.
"""

from __future__ import annotations

import ast
from pathlib import Path

import gan_lab
from gan_lab.runs import layout

PACKAGE = Path(gan_lab.__file__).parent
MAX_LINES = 400
# A name the run directory uses that also means something else in one place, with why.
NOT_A_RUN_DIR = {("metrics/features.py", "checkpoints"): "torch hub's own cache folder for the Inception weights"}
RUN_DIR_NAMES = ("run_dir", "sweep_dir", "job_dir", "run", "job")


def modules() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = (path, ast.parse(path.read_text(), str(path)))
    return found


def imports(name: str, tree: ast.Module, known: set[str]) -> set[str]:
    """The package modules `name` imports, at the top or inside functions."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in known else node.module)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return {m for m in out if m in known and m != name and not m.startswith(name + ".")}


def test_nothing_outside_commands_imports_a_command():
    mods = modules()
    offenders = [
        f"{name} imports {target}"
        for name, (_, tree) in mods.items()
        if not name.startswith("gan_lab.commands")
        for target in imports(name, tree, set(mods))
        if target.startswith("gan_lab.commands")
    ]
    assert offenders == []


def test_no_import_cycles():
    mods = modules()
    edges = {name: imports(name, tree, set(mods)) for name, (_, tree) in mods.items()}
    cycles, done = [], set()

    def visit(node: str, path: list[str]) -> None:
        for target in sorted(edges[node]):
            if target in path:
                cycles.append(" -> ".join(path[path.index(target) :] + [target]))
            elif target not in done:
                done.add(target)
                visit(target, path + [target])

    for name in sorted(edges):
        if name not in done:
            done.add(name)
            visit(name, [name])
    assert cycles == []


def test_no_module_is_over_400_lines():
    long = {str(path.relative_to(PACKAGE)): n for path, _ in modules().values() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _names_a_run_dir(node: ast.AST) -> bool:
    name = node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None
    return name in RUN_DIR_NAMES


def run_dir_names() -> set[str]:
    """Every file and folder name runs/layout.py defines (its upper-case string constants)."""
    return {v for k, v in vars(layout).items() if k.isupper() and isinstance(v, str)}


def test_only_runs_names_run_directory_files():
    names = run_dir_names()
    assert {"summary.json", "checkpoints", "samples", "diagnoses.json", "metrics.json", "job.json"} <= names
    found = []
    for _, (path, tree) in modules().items():
        relative = str(path.relative_to(PACKAGE))
        if relative.startswith("runs/"):
            continue
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in names and id(node) not in docstrings:
                if (relative, node.value) not in NOT_A_RUN_DIR:
                    found.append(f"{relative}:{node.lineno} names {node.value!r}")
            if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and _names_a_run_dir(node.left):
                found.append(f"{relative}:{node.lineno} joins a path onto {ast.unparse(node.left)}")
    assert found == []


def test_the_check_sees_a_violation(tmp_path):
    """The syntax-tree check above catches what it is meant to (so an empty result means something)."""
    tree = ast.parse('def f(run_dir):\n    """summary.json"""\n    return run_dir / "summary.json"\n')
    names = run_dir_names()
    constants = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in names and id(n) not in _docstrings(tree)]
    joins = [n for n in ast.walk(tree) if isinstance(n, ast.BinOp) and _names_a_run_dir(n.left)]
    assert constants == ["summary.json"] and len(joins) == 1
