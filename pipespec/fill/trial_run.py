"""The trial run: an LLM-written script runs once, on synthetic data, before it is locked.

After the static checks accept an answer, the assembled script runs on `ROWS` rows per input
made from the declared columns (deterministic values per type), with `--input-x DIR` and
`--output-y DIR` as in a real run. Its outputs must be CSV files with a header holding at
least the declared columns (extra columns are allowed: later steps read only what is
declared). An exception, a non-zero exit, a timeout, a resource limit or a wrong output is
a reason (PS521) that goes back to the model like a policy problem.

The run is contained, as defense in depth behind the static policy: `python -I` (no user
site, no PYTHON* variables, no current folder on sys.path), a fresh temporary folder as
working folder, HOME and TMPDIR, an environment of a few fixed variables (no proxies, no
credentials, no OPENAI_*), rlimits on address space, CPU, file size and open files set
before the script starts, a wall-clock timeout that kills its process group, and sockets
blocked (socket constructors replaced, and an audit hook that refuses socket events).

Without declarations, or without pandas (or a library the script imports) in the Python
that runs pipespec, nothing runs; the Trial says why and the lock records it.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipespec.fill.data_shape import Columns, DataShape
from pipespec.fill.synthetic import ROWS, synthetic_csv
from pipespec.fill.template import ScriptFrame, assemble, cli_flag

_TAIL_BYTES = 16 * 1024  # of stderr, read to find the traceback
_MAX_REASON = 900  # characters of a reason sent back to the model
_BOOTSTRAP = """\
import json, resource, runpy, socket, sys
for name, (soft, hard) in json.loads(sys.argv[1]).items():
    which = getattr(resource, name)
    ceiling = resource.getrlimit(which)[1]
    if ceiling != resource.RLIM_INFINITY:
        soft, hard = min(soft, ceiling), min(hard, ceiling)
    resource.setrlimit(which, (soft, hard))
def _blocked(*args, **kwargs):
    raise OSError("network access is blocked in pipespec's trial run")
class _NoSocket(socket.socket):
    def __init__(self, *args, **kwargs):
        _blocked()
socket.socket = _NoSocket
socket.create_connection = socket.getaddrinfo = socket.socketpair = socket.fromfd = _blocked
_EVENTS = {"socket.__new__", "socket.connect", "socket.bind", "socket.getaddrinfo",
           "socket.gethostbyname", "socket.gethostbyaddr", "socket.sendto", "socket.sendmsg"}
def _audit(event, args):
    if event in _EVENTS:
        _blocked()
sys.addaudithook(_audit)
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


@dataclass(frozen=True)
class TrialLimits:
    memory_bytes: int = 2 * 2**30
    cpu_seconds: int = 30
    wall_seconds: float = 60.0
    file_bytes: int = 16 * 2**20
    open_files: int = 256

    def rlimits(self) -> dict[str, tuple[int, int]]:
        return {
            "RLIMIT_AS": (self.memory_bytes, self.memory_bytes),
            # SIGXCPU at the soft limit names the cause; SIGKILL a second later if ignored.
            "RLIMIT_CPU": (self.cpu_seconds, self.cpu_seconds + 1),
            "RLIMIT_FSIZE": (self.file_bytes, self.file_bytes),
            "RLIMIT_NOFILE": (self.open_files, self.open_files),
        }


@dataclass(frozen=True)
class Trial:
    """What the trial run did: ran on what and wrote what, or why it did not run."""

    ran: bool
    reason: str | None = None  # why it did not run
    rows: int = 0
    inputs: dict[str, list[str]] = field(default_factory=dict)
    outputs: dict[str, list[str]] = field(default_factory=dict)
    problem: str | None = None  # it ran and failed: the reason for the model (PS521)
    environment: bool = False  # it did not run for want of a library here (warn: PS522)

    def to_json(self) -> dict[str, Any]:
        if not self.ran:
            return {"ran": False, "reason": self.reason}
        return {"ran": True, "rows": self.rows, "inputs": self.inputs, "outputs": self.outputs}


def skip_reason(shape: DataShape) -> str | None:
    """Why a step with these declarations cannot have a trial run (None: it can)."""
    if not shape.declared:
        return "no input or output of the step declares its columns"
    undeclared = sorted(n for n, c in shape.inputs.items() if c is None)
    if undeclared:
        return f"input {undeclared[0]!r} declares no columns: there is no data to run it on"
    return None


def run_trial(
    frame: ScriptFrame,
    imports: list[str],
    body: str,
    limits: TrialLimits | None = None,
    python: str | None = None,
) -> Trial:
    """Run the script the answer makes once on synthetic data (see the module docstring)."""
    reason = skip_reason(frame.data)
    if reason is not None:
        return Trial(False, reason)
    python = python or sys.executable
    missing = missing_modules(python, needed_modules(imports))
    if missing:
        what = ", ".join(missing)
        return Trial(False, f"{what} cannot be imported by {python}", environment=True)
    return run_script(assemble(frame, imports, body), frame, limits or TrialLimits(), python)


def run_script(script: str, frame: ScriptFrame, limits: TrialLimits, python: str) -> Trial:
    """Run an assembled script in the contained child process and judge what it wrote."""
    shape = frame.data
    inputs = {n: c or {} for n, c in shape.inputs.items()}
    with tempfile.TemporaryDirectory(prefix="pipespec-trial-") as tmp:
        root = Path(tmp)
        args = _lay_out(root, script, inputs, frame.outputs)
        try:
            problem = _run(root, python, args, limits, _body_lines(script))
        except OSError as exc:
            return Trial(False, f"the trial run could not start: {exc}", environment=True)
        if problem is not None:
            if "KeyError" in problem:  # most likely a guessed column: say which there are
                problem += "; the inputs' columns are: " + _listing(inputs)
            return Trial(True, rows=ROWS, inputs=_names(inputs), problem=f"PS521: {problem}")
        written, problem = _read_outputs(root, frame.outputs, shape.outputs)
    if problem is not None:
        return Trial(True, rows=ROWS, inputs=_names(inputs), problem=f"PS521: {problem}")
    return Trial(True, rows=ROWS, inputs=_names(inputs), outputs=written)


def _listing(inputs: dict[str, Columns]) -> str:
    return "; ".join(f"{name}: {', '.join(columns)}" for name, columns in sorted(inputs.items()))


def _names(inputs: dict[str, Columns]) -> dict[str, list[str]]:
    return {name: list(columns) for name, columns in sorted(inputs.items())}


def _lay_out(
    root: Path, script: str, inputs: dict[str, Columns], outputs: tuple[str, ...]
) -> list[str]:
    """The script, its inputs and its folders on disk; the arguments that name them."""
    for sub in ("home", "tmp", "work", "outputs"):
        (root / sub).mkdir()
    (root / "script.py").write_text(script, encoding="utf-8")
    args = [str(root / "script.py")]
    for name, columns in sorted(inputs.items()):
        folder = root / "inputs" / name
        folder.mkdir(parents=True)
        (folder / "data.csv").write_text(synthetic_csv(columns), encoding="utf-8")
        args += [cli_flag("input", name), str(folder)]
    for name in outputs:
        args += [cli_flag("output", name), str(root / "outputs" / name)]
    return args


def _environment(root: Path) -> dict[str, str]:
    """All the child gets: no proxies, no credentials, no OPENAI_*, nothing inherited."""
    return {
        "PATH": os.defpath,
        "HOME": str(root / "home"),
        "TMPDIR": str(root / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "UTC",
        # One thread each: deterministic, and a small machine stays usable.
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
    }


def _run(
    root: Path, python: str, args: list[str], limits: TrialLimits, body: tuple[int, int]
) -> str | None:
    """Run the child; None when it exited 0, else what went wrong."""
    command = [python, "-I", "-c", _BOOTSTRAP, json.dumps(limits.rlimits()), *args]
    with (root / "stdout").open("wb") as out, (root / "stderr").open("wb") as err:
        child = subprocess.Popen(
            command,
            cwd=root / "work",
            env=_environment(root),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,  # its own process group: the timeout kills all of it
        )
        try:
            code = child.wait(timeout=limits.wall_seconds)
        except subprocess.TimeoutExpired:
            # Not reaped yet, so the group is still this child's: kill all of it.
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            return (
                f"the trial run took longer than {limits.wall_seconds:g} s and was stopped "
                "(an endless loop? transforms on a few rows finish in a second)"
            )
    if code == 0:
        return None
    if code < 0:
        return _killed(-code, limits)
    return _failure(_tail(root / "stderr"), body)


def _killed(number: int, limits: TrialLimits) -> str:
    if number == signal.SIGXCPU:
        return f"the trial run used more than {limits.cpu_seconds} s of CPU and was stopped"
    if number == signal.SIGXFSZ:
        return f"the trial run wrote a file larger than {limits.file_bytes // 2**20} MiB"
    name = signal.Signals(number).name if number in signal.valid_signals() else str(number)
    return f"the trial run was killed by {name} (out of memory?)"


def _tail(path: Path) -> str:
    with path.open("rb") as handle:
        handle.seek(max(0, path.stat().st_size - _TAIL_BYTES))
        return handle.read().decode("utf-8", errors="replace")


def _body_lines(script: str) -> tuple[int, int]:
    """The body's first and last line numbers in the script."""
    lines = script.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("def transform(")) + 2
    end = next(i for i, line in enumerate(lines) if line.startswith("def _read("))
    while end > start and not lines[end - 1].strip():
        end -= 1
    return start, end


def _failure(stderr: str, body: tuple[int, int]) -> str:
    """The exception and where in the body it happened, from the traceback's last lines."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    if not lines:
        return "the trial run exited with an error and printed nothing"
    where = ""
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith("File ") and "script.py" in stripped and ", line " in stripped:
            number = int(stripped.split(", line ", 1)[1].split(",", 1)[0])
            code = lines[index + 1].strip() if index + 1 < len(lines) else ""
            code = "" if code.startswith("File ") else code
            if body[0] <= number <= body[1]:
                where = f" (line {number - body[0] + 1} of the body: {code})"
            elif number > body[1]:
                where = f" (in pipespec's frame: {code})"
                if "to_csv" in code:
                    where += "; transform() must return a dict of pandas DataFrames"
    text = f"the script failed on {ROWS} synthetic rows per input: {lines[-1].strip()}{where}"
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 3] + "..."


def _read_outputs(
    root: Path, outputs: tuple[str, ...], declared: dict[str, Columns | None]
) -> tuple[dict[str, list[str]], str | None]:
    """Each output's header; or what is wrong with one (missing, not CSV, columns lacking)."""
    written: dict[str, list[str]] = {}
    for name in outputs:
        files = sorted((root / "outputs" / name).rglob("*.csv"))
        if not files:
            return written, f"the trial run wrote no CSV file for output {name!r}"
        try:
            text = files[0].read_text(encoding="utf-8")
            rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            return written, f"output {name!r} is not a readable CSV file: {exc}"
        header = rows[0] if rows else []
        if not [c for c in header if c]:
            return written, f"output {name!r} has no columns (an empty DataFrame?)"
        lacking = [c for c in declared.get(name) or {} if c not in header]
        if lacking:
            return written, (
                f"output {name!r} lacks the declared column(s) {', '.join(lacking)}; "
                f"it has: {', '.join(header)}"
            )
        written[name] = header
    return written, None


# --- what the script needs to run here ------------------------------------------------------


def needed_modules(imports: list[str]) -> tuple[str, ...]:
    """The third-party modules the script imports: pandas, and those of its menu lines."""
    modules = {"pandas"}
    for line in imports:
        words = line.split()
        if len(words) >= 2 and words[0] in ("import", "from"):
            top = words[1].split(".", 1)[0]
            if top not in sys.stdlib_module_names:
                modules.add(top)
    return tuple(sorted(modules))


@functools.lru_cache(maxsize=32)
def missing_modules(python: str, modules: tuple[str, ...]) -> tuple[str, ...]:
    """Those of `modules` that `python` cannot find (all of them when it does not start)."""
    probe = (
        "import importlib.util, sys\n"
        "print(' '.join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))"
    )
    try:
        done = subprocess.run(
            [python, "-I", "-c", probe, *modules],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return modules
    if done.returncode != 0:
        return modules
    return tuple(done.stdout.split())
