"""pyproject.toml, requirements*.txt, constraints.txt, .ci/run and the README agree with each other.

`pip install .` reads pyproject's [project] table, the app's two commands read requirements*.txt
and CI pins everything with constraints.txt: three lists of one set of packages that drift apart
unless something checks them. (Installing into a fresh venv takes minutes and gigabytes, so it is
checked by hand, see the README's "Install as a package".)
"""

from __future__ import annotations

import importlib
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
PROJECT = PYPROJECT["project"]
EXACT = {"torch", "torchvision"}  # pinned to the builds the project is tested on


def read_requirements(name: str) -> dict[str, Requirement]:
    """A requirements file as {canonical name: Requirement}, following ``-r`` includes."""
    out: dict[str, Requirement] = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith(("-r ", "--requirement ")):
            out.update(read_requirements(line.split(maxsplit=1)[1]))
        elif line.startswith("-"):
            pytest.fail(f"{name}: an option this test does not understand: {line}")
        else:
            req = Requirement(line)
            out[canonicalize_name(req.name)] = req
    return out


def project_requirements() -> dict[str, Requirement]:
    reqs = [Requirement(text) for text in PROJECT["dependencies"]]
    names = [canonicalize_name(r.name) for r in reqs]
    assert len(names) == len(set(names)), f"a dependency is listed twice: {names}"
    return dict(zip(names, reqs))


def pinned(req: Requirement) -> Version | None:
    """The version of an ``==X`` requirement, else None."""
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version:
        return Version(specs[0].version)
    return None


def constraints() -> dict[str, Version]:
    out = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            req = Requirement(line)
            version = pinned(req)
            assert version is not None, f"constraints.txt pins exact versions only: {line}"
            out[canonicalize_name(req.name)] = version
    return out


def test_project_has_the_same_packages_as_requirements_txt():
    assert set(project_requirements()) == set(read_requirements("requirements.txt"))


def test_project_pins_admit_what_requirements_txt_pins():
    project = project_requirements()
    for name, req in read_requirements("requirements.txt").items():
        version = pinned(req)
        if version is not None:
            assert project[name].specifier.contains(version, prereleases=True), (
                f"pyproject's {project[name]} rejects requirements.txt's {req}")
        if name in EXACT:
            assert pinned(project[name]) == version and version is not None, (
                f"{name} must be pinned to the same build in both files: {project[name]} vs {req}")


def test_every_project_dependency_has_an_upper_bound():
    for name, req in project_requirements().items():
        operators = {spec.operator for spec in req.specifier}
        assert operators & {"<", "<=", "==", "~=", "==="}, (
            f"{req}: give it an upper bound (the next release that may break us)")


def test_constraints_pin_every_requirement_to_a_version_all_files_accept():
    pins = constraints()
    project = project_requirements()
    for name, req in read_requirements("requirements-dev.txt").items():
        assert name in pins, f"constraints.txt has no pin for {name}"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt's {name}=={pins[name]} breaks requirements: {req}")
        if name in project:
            assert project[name].specifier.contains(pins[name], prereleases=True), (
                f"constraints.txt's {name}=={pins[name]} breaks pyproject: {project[name]}")


def test_requires_python_admits_this_interpreter():
    assert PROJECT["requires-python"] == ">=3.11"
    here = Version(".".join(map(str, sys.version_info[:3])))
    assert Requirement(f"python{PROJECT['requires-python']}").specifier.contains(here)


def test_console_script_target_exists_and_answers_help(capsys):
    target = PROJECT["scripts"]["resnet-explorer"]
    module_name, _, attribute = target.partition(":")
    main = getattr(importlib.import_module(module_name), attribute)
    assert callable(main)
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "summary" in capsys.readouterr().out


def test_setuptools_finds_every_explorer_package():
    """A folder without __init__.py would be left out of the wheel by packages.find."""
    assert PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"] == ["explorer*"]
    for folder in (ROOT / "explorer").rglob("*"):
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py")):
            assert (folder / "__init__.py").exists(), f"{folder.relative_to(ROOT)} has no __init__.py"
    assert (ROOT / "explorer" / "__init__.py").exists()


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"^```bash\n(.*?)^```", readme, flags=re.MULTILINE | re.DOTALL)
    commands = [line for block in blocks for line in block.splitlines() if "python -m pytest" in line]
    assert commands, "the README shows no test command"
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    for command in commands:
        assert command.strip() in (line.strip() for line in ci_lines), (
            f"README's test command is not in .ci/run verbatim: {command}")
    assert any("-c constraints.txt" in c for c in commands)
