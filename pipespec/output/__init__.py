"""Output folders: all-or-nothing writes that survive a crash, and drift checks.

- transaction.py: write the files of a run into every folder at once, or not at all;
- journal.py: the journal that makes that recoverable, and the recovery every command runs;
- drift.py: what `pipespec check` compares;
- errors.py: the faults of the output folder, as diagnostics (exit 2).
"""

from __future__ import annotations

from pipespec.output.drift import Drift, compare, unified_diff
from pipespec.output.errors import ENVIRONMENT_CODES, OutputError, Problem
from pipespec.output.journal import recover
from pipespec.output.transaction import commit, write_atomically

__all__ = [
    "ENVIRONMENT_CODES",
    "Drift",
    "OutputError",
    "Problem",
    "commit",
    "compare",
    "recover",
    "unified_diff",
    "write_atomically",
]
