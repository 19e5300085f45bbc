"""Report source files over MAX_FILE_LINES lines and functions over
MAX_FUNCTION_LINES lines (tests and migrations aside), so a god module or a function
too long to read at once shows up in CI.

    .venv/bin/python scripts/code_size.py            list offenders; exit 0
    .venv/bin/python scripts/code_size.py --strict   list offenders; exit 1 if any
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (
    "alphaforge",
    "core",
    "api",
    "market",
    "signals",
    "journal",
    "events",
    "webhooks",
    "monitoring",
    "bench",
    "scripts",
)
LEFT_OUT = ("tests", "migrations")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 80


def source_files(root: Path, packages: Iterable[str] = SOURCES) -> Iterator[Path]:
    """The .py files under `packages`, without tests and migrations."""
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).parts
            if not any(part in LEFT_OUT for part in parts[:-1]):
                if not path.name.startswith("test_") and path.name != "conftest.py":
                    yield path


def offenders(
    root: Path,
    packages: Iterable[str] = SOURCES,
    *,
    max_file: int = MAX_FILE_LINES,
    max_function: int = MAX_FUNCTION_LINES,
) -> list[str]:
    """One line per file or function over its limit, as `path:line: what`."""
    found = []
    for path in source_files(root, packages):
        text = path.read_text(encoding="utf-8")
        name = path.relative_to(root).as_posix()
        lines = len(text.splitlines())
        if lines > max_file:
            found.append(f"{name}:1: {lines} lines (at most {max_file})")
        for node in ast.walk(ast.parse(text, filename=name)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                length = (node.end_lineno or node.lineno) - start + 1
                if length > max_function:
                    found.append(
                        f"{name}:{node.lineno}: {node.name}() {length} lines "
                        f"(at most {max_function})"
                    )
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when anything is over"
    )
    args = parser.parse_args(argv)
    found = offenders(ROOT)
    for line in found:
        print(line)
    if not found:
        print("sizes: every file and function within the limits")
        return 0
    print(f"sizes: {len(found)} over the limits")
    return 1 if args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
