"""Writer-disjoint train/val/test splits."""
from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path

SPLITS = ("train", "val", "test")


class SplitError(ValueError):
    """Split fractions or a writer-list file that cannot give a valid split."""


def parse_fractions(spec: str) -> tuple[float, float]:
    """``"0.1,0.1"`` -> (val, test) writer fractions."""
    try:
        val, test = (float(v) for v in spec.split(","))
    except ValueError:
        raise SplitError(f"--split {spec!r}: expected two fractions VAL,TEST such as 0.1,0.1") from None
    if val < 0 or test < 0 or val + test >= 1:
        raise SplitError(f"--split {spec!r}: fractions must be >= 0 and leave writers for training (sum < 1)")
    return val, test


def split_writers(writers: Iterable[str], val: float, test: float, seed: int = 0) -> dict[str, list[str]]:
    """Assign each distinct writer to train, val or test, deterministically for ``seed``.

    A nonzero fraction gets at least one writer; at least one writer stays in train.
    """
    unique = sorted(set(writers))
    n = len(unique)
    n_val = max(1, round(val * n)) if val > 0 else 0
    n_test = max(1, round(test * n)) if test > 0 else 0
    if n_val + n_test >= n:
        raise SplitError(f"cannot split {n} writer(s) into val={n_val}, test={n_test} and a non-empty train set")
    order = unique[:]
    random.Random(seed).shuffle(order)
    out = {"test": order[:n_test], "val": order[n_test : n_test + n_val], "train": order[n_test + n_val :]}
    return {k: sorted(v) for k, v in out.items()}


def load_split_file(path: str | Path, writers: Iterable[str]) -> dict[str, list[str]]:
    """Writer lists from a JSON file ``{"val": [...], "test": [...], "train": [...]}``.

    ``train`` is optional: without it, every writer not listed in val or test trains. With it,
    writers listed nowhere are left out. A writer on two sides is an error.
    """
    path = Path(path)
    try:
        given = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise SplitError(f"{path}: cannot read writer lists ({e}); expected JSON like {{\"val\": [..], \"test\": [..]}}") from None
    if not isinstance(given, dict) or not set(given) <= set(SPLITS):
        raise SplitError(f"{path}: expected a JSON object with keys among {SPLITS}")
    lists = {k: [str(w) for w in given.get(k, [])] for k in SPLITS}
    seen: dict[str, str] = {}
    for side in SPLITS:
        for w in lists[side]:
            if w in seen and seen[w] != side:
                raise SplitError(f"{path}: writer {w!r} is listed in both {seen[w]} and {side}")
            seen[w] = side
    if "train" not in given:
        lists["train"] = sorted(set(writers) - set(lists["val"]) - set(lists["test"]))
    return {k: sorted(set(v)) for k, v in lists.items()}
