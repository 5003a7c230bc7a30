"""Faults met while reading or writing output folders, as diagnostics.

The output folder belongs to the environment, not to the spec: a full disk, a directory
where a file should go or a write cut short by a crash is reported with the path and exit
code 2, never as an internal error.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass

from pipespec.diagnostics import Diagnostic, Severity

# Codes that mean "fix the environment, not the spec": the CLI exits 2 on them.
# PS617 (an invalid PIPESPEC_TODAY) is the compiler's, listed here so the exit code is one rule.
ENVIRONMENT_CODES = frozenset({"PS610", "PS611", "PS613", "PS617"})


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    hint: str | None = None
    warning: bool = False

    def diagnostic(self) -> Diagnostic:
        severity = Severity.WARNING if self.warning else Severity.ERROR
        return Diagnostic(self.code, self.message, None, self.hint, severity)


class OutputError(Exception):
    """Nothing was written (or everything was put back); ``problems`` say why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


_HINTS = {
    errno.ENOSPC: "the disk is full: free some space and run again (nothing was changed)",
    errno.EDQUOT: "the disk quota is exhausted: free some space and run again",
    errno.EACCES: "check the folder's permissions (nothing was changed)",
    errno.EPERM: "check the folder's permissions (nothing was changed)",
    errno.EROFS: "the file system is read-only: write to another --out folder",
}


def os_problem(exc: OSError, verb: str = "write") -> Problem:
    """PS610 for an OSError, naming the path the operating system named."""
    where = exc.filename if exc.filename is not None else "the output folder"
    reason = exc.strerror or str(exc)
    return Problem(
        "PS610",
        f"cannot {verb} {where}: {reason}",
        _HINTS.get(exc.errno or 0, "fix the problem with the folder and run again"),
    )
