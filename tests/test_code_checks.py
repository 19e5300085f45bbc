"""The CI checks of scripts/ can fail: each finds what it looks for in a tiny
synthetic package."""

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_package(root: Path, name: str, modules: dict[str, str]) -> None:
    package = root / name
    package.mkdir()
    (package / "__init__.py").write_text("")
    for module, text in modules.items():
        path = package / f"{module.replace('.', '/')}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def packages_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for module in [m for m in sys.modules if m.startswith("cyclic_pkg")]:
        del sys.modules[module]


def test_import_cycles_finds_a_cycle_hidden_in_a_function(packages_dir: Path):
    write_package(
        packages_dir,
        "cyclic_pkg",
        {
            "models": "from .querysets import QuerySet\n",
            "querysets": "def stats():\n    from .models import Rollup\n",
            "views": "from . import models\n",
        },
    )
    cycles = script("import_cycles").import_cycles(["cyclic_pkg"])
    assert cycles == [
        ["cyclic_pkg.models", "cyclic_pkg.querysets", "cyclic_pkg.models"]
    ]


def test_import_cycles_finds_none_in_a_layered_package(packages_dir: Path):
    write_package(
        packages_dir,
        "cyclic_pkg",
        {"models": "from .querysets import QuerySet\n", "querysets": "X = 1\n"},
    )
    assert script("import_cycles").import_cycles(["cyclic_pkg"]) == []


def test_code_size_reports_long_files_and_functions_outside_tests(tmp_path: Path):
    long_function = "def long():\n" + "    x = 1\n" * 9 + "\n\ndef short():\n    pass\n"
    write_package(
        tmp_path,
        "app",
        {
            "views": long_function,
            "big": "X = 1\n" * 21,
            "tests/test_views": long_function + "X = 1\n" * 21,
            "migrations/0001_initial": long_function,
        },
    )
    found = script("code_size").offenders(
        tmp_path, ["app"], max_file=20, max_function=9
    )
    assert found == [
        "app/big.py:1: 21 lines (at most 20)",
        "app/views.py:1: long() 10 lines (at most 9)",
    ]
