"""Walk-forward folds and the parameter grid of `--optimize` (pure).

Without a grid the period is cut into `folds` equal runs of candles, each scored
with the same parameters. With a grid it is cut into `folds + 1` runs: the first
only trains, and each later run (a fold) is scored with the parameter set that had
the best expectancy on the candles before it, which never include its own.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable, Sequence
from typing import Any

from signals.strategies.params import StrategyParams

MAX_GRID = 100  # parameter sets a run may try
MAX_FOLDS = 50


def fold_bounds(
    start: int, stop: int, folds: int, optimise: bool
) -> list[tuple[int, int]]:
    """[start, stop) cut into equal runs; the first dropped when it only trains."""
    parts = folds + 1 if optimise else folds
    edges = [start + (stop - start) * k // parts for k in range(parts + 1)]
    bounds = list(itertools.pairwise(edges))
    return bounds[1:] if optimise else bounds


def grid_parse(text: str) -> dict[str, list[int | float]]:
    """`k=v1,v2;k2=v3` into {k: [v1, v2], k2: [v3]}, typed as StrategyParams' fields.

    Raises ValueError with a message for the user on anything it cannot use.
    """
    types = {f.name: f.type for f in dataclasses.fields(StrategyParams)}
    grid: dict[str, list[int | float]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        name, sep, raw_values = part.partition("=")
        name = name.strip()
        if not sep or not raw_values.strip():
            raise ValueError(f"{part!r} is not name=value[,value…]")
        if name not in types:
            raise ValueError(f"unknown strategy parameter {name!r}")
        if name in grid:
            raise ValueError(f"{name!r} is given twice")
        cast: Callable[[str], int | float] = (
            int if types[name] in (int, "int") else float
        )
        try:
            grid[name] = [cast(v.strip()) for v in raw_values.split(",")]
        except ValueError:
            kind = "integers" if cast is int else "numbers"
            raise ValueError(f"{name!r} takes {kind}, got {raw_values!r}") from None
    if not grid:
        raise ValueError("no parameter given")
    return grid


def grid_params(
    grid: dict[str, list[int | float]], base: StrategyParams
) -> list[tuple[dict[str, Any], StrategyParams]]:
    """Every valid combination as (the grid's values, full parameters), grid order.

    Combinations the strategy rejects (say ema_fast >= ema_slow) are left out;
    ValueError when none is left or there are more than MAX_GRID.
    """
    names = list(grid)
    combos = list(itertools.product(*(grid[name] for name in names)))
    if len(combos) > MAX_GRID:
        raise ValueError(f"{len(combos)} combinations; at most {MAX_GRID}")
    found = []
    for values in combos:
        chosen = dict(zip(names, values, strict=True))
        try:
            found.append((chosen, dataclasses.replace(base, **chosen)))
        except ValueError:
            continue
    if not found:
        raise ValueError("no combination is a valid parameter set")
    return found


def best_index(scores: Sequence[float | None]) -> int:
    """Position of the highest score (None is worst; the first wins a tie)."""
    best, best_score = 0, float("-inf")
    for i, score in enumerate(scores):
        if score is not None and score > best_score:
            best, best_score = i, score
    return best
