"""Synthetic rows for a trial run: a few deterministic values per declared column type.

Each column draws from its own generator, seeded from the column's name, so the data (and
so the trial, and what the lock records) is the same on every run and every machine, and a
column keeps its values when others are added. Values repeat a little (group-bys have
groups) and cover both booleans; there are no missing values.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
from datetime import datetime, timedelta

ROWS = 8
"""Rows per input: enough for groups, splits and scalers, few enough to run in a moment."""

_CATEGORIES = ("A", "B", "C")
_EPOCH = datetime(2024, 1, 1)


def synthetic_csv(columns: dict[str, str], rows: int = ROWS) -> str:
    """CSV text: a header of the declared names, then `rows` rows of values of their types."""
    values = {name: column_values(name, kind, rows) for name, kind in columns.items()}
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(list(columns))
    for index in range(rows):
        writer.writerow([values[name][index] for name in columns])
    return out.getvalue()


def column_values(name: str, kind: str, rows: int = ROWS) -> list[str]:
    """`rows` values for a column of the declared type, as CSV cells."""
    seed = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    if kind == "int":
        return [str(rng.randrange(0, 100)) for _ in range(rows)]
    if kind == "float":
        return [f"{rng.uniform(0, 100):.3f}" for _ in range(rows)]
    if kind == "bool":
        flags = [index % 2 == 0 for index in range(rows)]
        rng.shuffle(flags)
        return ["True" if flag else "False" for flag in flags]
    if kind == "datetime":
        return [
            (_EPOCH + timedelta(days=rng.randrange(0, 365), hours=rng.randrange(0, 24))).isoformat(
                sep=" "
            )
            for _ in range(rows)
        ]
    if kind == "category":
        return [_CATEGORIES[rng.randrange(len(_CATEGORIES))] for _ in range(rows)]
    stem = "".join(c for c in name if c.isalnum())[:12] or "value"
    return [f"{stem}_{rng.randrange(0, rows // 2 or 1)}" for _ in range(rows)]
