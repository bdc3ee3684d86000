"""explorer/ is pure Python: it imports, and works, with streamlit made unimportable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "explorer"

# Runs in a fresh interpreter: a None entry in sys.modules makes any `import streamlit` fail.
IMPORT_EVERYTHING = """
import importlib, pkgutil, sys
sys.modules["streamlit"] = None
import explorer
names = [m.name for m in pkgutil.walk_packages(explorer.__path__, "explorer.")
         if m.name.rsplit(".", 1)[-1] != "__main__"]  # __main__ would run the CLI
for name in names:
    importlib.import_module(name)
from explorer import NetSpec, build, stage_table
spec = NetSpec(layers=(1, 1), base_width=4, stem="cifar", image_size=16)
assert build(spec)(__import__("torch").zeros(1, 3, 16, 16)).shape == (1, 1000)
assert stage_table(spec).total_params > 0
assert sys.modules["streamlit"] is None
print(len(names), "modules:", " ".join(sorted(names)))
"""


def test_explorer_imports_and_runs_without_streamlit():
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", IMPORT_EVERYTHING], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    found = set(result.stdout.split(":", 1)[1].split())
    on_disk = {f"explorer.{p.stem}" for p in PACKAGE.glob("*.py")
               if p.stem not in ("__init__", "__main__")}
    assert on_disk <= found  # every module file was really imported


def test_no_explorer_file_mentions_a_streamlit_import():
    pattern = re.compile(r"^\s*(import\s+streamlit|from\s+streamlit\b)|__import__\(.streamlit",
                         re.MULTILINE)
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) >= 6
    offenders = [str(f.relative_to(ROOT)) for f in files if pattern.search(f.read_text())]
    assert offenders == []
    assert not any("import streamlit" in f.read_text() for f in files)
