"""The layer rule of docs/ARCHITECTURE.md, held by a test: imports run one way, downwards.

Every module of ``explorer/`` belongs to a layer (its sub-package, or the top-level module's
name). A module may import its own layer and any lower layer, never a higher one; ``analysis``
and ``training`` are siblings, so neither imports the other. Imports inside functions count too:
a lazy import is still a dependency. And no set of modules imports itself in a loop.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "explorer"

# The table docs/ARCHITECTURE.md shows: a layer may import the layers with a lower number.
LAYERS = {
    "units": 0, "devices": 0, "slots": 0, "margins": 0,
    "nets": 1,
    "data": 2, "budget": 2,
    "io": 3,
    "analysis": 4, "training": 4,
    "figures": 5,
    "cli": 6,
}
FRONT_DOORS = {"explorer", "explorer.__main__"}  # re-export or dispatch; they import anything


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> str:
    return module.split(".")[1]


def imports_of(path: Path) -> set[str]:
    """Every ``explorer.*`` module ``path`` imports, at any depth of its code."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            base = node.module
            for alias in node.names:  # `from explorer.analysis import lesion` names a module
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in ALL_MODULES else base)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.startswith("explorer.") and m in ALL_MODULES}


ALL_MODULES = {module_name(p) for p in PACKAGE.rglob("*.py")}
GRAPH = {module_name(p): imports_of(p) for p in PACKAGE.rglob("*.py")}


def test_every_module_has_a_layer():
    unknown = sorted({layer_of(m) for m in ALL_MODULES if m not in FRONT_DOORS} - set(LAYERS))
    assert unknown == [], f"add these to LAYERS and docs/ARCHITECTURE.md: {unknown}"


def test_no_module_imports_a_higher_or_sibling_layer():
    wrong = []
    for module, imported in sorted(GRAPH.items()):
        if module in FRONT_DOORS:
            continue
        for target in sorted(imported):
            mine, theirs = layer_of(module), layer_of(target)
            if theirs != mine and LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{module} ({mine}, {LAYERS[mine]}) -> {target} "
                             f"({theirs}, {LAYERS[theirs]})")
    assert wrong == []


def test_no_import_loops():
    loops, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == "open":
                loops.append(" -> ".join(path[path.index(target):] + [target]))
            elif target not in state:
                visit(target, path + [target])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state and module not in FRONT_DOORS:
            visit(module, [module])
    assert loops == []


def test_the_rule_catches_a_wrong_arrow(tmp_path):
    """The checker itself: an upward import in a made-up module is reported."""
    fake = tmp_path / "explorer" / "nets" / "fake.py"
    fake.parent.mkdir(parents=True)
    fake.write_text("def f():\n    from explorer.analysis.tables import stage_frame\n")
    assert "explorer.analysis.tables" in imports_of(fake)
    assert LAYERS[layer_of("explorer.analysis.tables")] > LAYERS["nets"]


def test_no_page_module_imports_torch():
    """Pages hold layout, widgets and session state; the error guard may name torch's
    exception types."""
    offenders = []
    for path in sorted((ROOT / "pages").rglob("*.py")) + [ROOT / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "torch" or n.startswith("torch.") for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders in ([], ["pages/widgets/guard.py"])


def test_loading_a_checkpoint_imports_no_presentation_library():
    """The command line and the core load a run folder without pandas, plotly or streamlit."""
    import subprocess
    import sys

    code = ("import sys\nfrom explorer import load_saved\nload_saved('checkpoints/resnet20')\n"
            "print(' '.join(m for m in ('pandas', 'plotly', 'streamlit') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
