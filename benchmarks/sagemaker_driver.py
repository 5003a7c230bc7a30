"""Standalone: runs in the sagemaker venv's python and times one SDK program's steps and
``Pipeline.definition()``.

It imports nothing from pipespec, and the SDK only through ``importlib`` (so mypy checks it
without the SDK). ``benchmarks/bench_sagemaker.py`` writes the programs
(``benchmarks/sagemaker_program.py``: a module defining ``build(session) -> Pipeline``) and
runs this once per N, in a new process each time, with a timeout.

Offline, as ``tests/conformance/sagemaker_offline.py`` does it: dummy keys and the region in
the environment, a ``PipelineSession`` on a ``boto3.Session`` with a fixed region whose every
request is refused, the default bucket already resolved, and ``socket.getaddrinfo`` /
``socket.create_connection`` refused while the program runs; every attempt is recorded and
reported (there should be none).

The SDK's defaults config: ``--sdk-config none`` (the default) leaves the session with no
config, what a user without a SageMaker config file has; ``--sdk-config optout`` passes the
conformance programs' config (``TelemetryOptOut: true``), i.e. any non-empty config: then every
default the SDK looks up (a dozen per step) first validates the whole config against the SDK's
JSON schema, a control. ``--no-gc`` pauses the cyclic garbage collector during each timed run
(a control: pipespec's ``build()`` does that for its own compile).

One process: the imports (timed once, reported apart), one untimed warm-up run of the
``--warmup`` program, then ``--repeats`` timed runs of ``--program`` (no repeat started once
``--budget`` seconds have gone by), each in a fresh module after an untimed ``gc.collect()``:

* ``steps``: executing the module and ``build(session)``: the parameters, Processors,
  ``Processor.run`` (with a PipelineSession it returns the request's recipe, not a request),
  ProcessingSteps, ConditionSteps and the ``Pipeline``;
* ``definition``: ``pipeline.definition()``, the JSON text (the requests built, references
  checked, the step graph built).

Prints one JSON object; ``--out`` gets the last definition.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import importlib
import io
import json
import logging
import os
import pstats
import socket
import statistics
import sys
import time
import types
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PARTS = ("steps", "definition", "total")
REGION = "us-east-1"
BUCKET = "sagemaker-us-east-1-111122223333"
OFFLINE_ENV = {
    "AWS_ACCESS_KEY_ID": "AKIDOFFLINE",
    "AWS_SECRET_ACCESS_KEY": "offline",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "SAGEMAKER_SUPPRESS_V2_WARNING": "1",
}
OPTOUT_CONFIG: dict[str, Any] = {
    "SchemaVersion": "1.0",
    "SageMaker": {"PythonSDK": {"Modules": {"TelemetryOptOut": True}}},
}
IMPORTS = ("boto3", "sagemaker.workflow.pipeline_context")
ATTEMPTS: list[str] = []
MODULE = "bench_sagemaker_program"


class NetworkRefused(RuntimeError):
    """The SDK tried to reach the network while building a definition offline."""


def _refuse(*args: Any, **_: Any) -> Any:
    ATTEMPTS.append(f"connection to {args[0]!r}")
    raise NetworkRefused(ATTEMPTS[-1])


def _refuse_aws(request: Any, **_: Any) -> None:
    ATTEMPTS.append(f"AWS request {request.method} {request.url}")
    raise NetworkRefused(ATTEMPTS[-1])


@contextmanager
def no_network() -> Iterator[None]:
    saved = socket.getaddrinfo, socket.create_connection
    setattr(socket, "getaddrinfo", _refuse)  # noqa: B010
    setattr(socket, "create_connection", _refuse)  # noqa: B010
    try:
        yield
    finally:
        socket.getaddrinfo, socket.create_connection = saved


def session(sdk_config: str) -> Any:
    boto3 = importlib.import_module("boto3")
    context = importlib.import_module("sagemaker.workflow.pipeline_context")
    boto = boto3.Session(
        region_name=REGION, aws_access_key_id="AKIDOFFLINE", aws_secret_access_key="offline"
    )
    boto._session.register("before-send", _refuse_aws)
    made = context.PipelineSession(
        boto_session=boto, default_bucket=BUCKET, sagemaker_config=OPTOUT_CONFIG
    )
    made._default_bucket = BUCKET  # resolved: default_bucket() must not call S3
    if sdk_config == "none":
        # No config file: the state Session leaves when load_sagemaker_config finds none (set
        # after construction so that no config file on this machine is read).
        made.sagemaker_config = {}
    return made


def run_once(
    code: Any, sdk_config: str, profiler: cProfile.Profile | None = None, no_gc: bool = False
) -> tuple[dict[str, float], str]:
    """One timed run; ``profiler`` (if any) runs over the timed part only, and so does the
    cyclic GC's pause with ``no_gc``."""
    module = types.ModuleType(MODULE)
    module.__file__ = code.co_filename
    sys.modules[MODULE] = module
    try:
        with no_network():
            made = session(sdk_config)  # the session is not the program's work
            gc.collect()
            if no_gc:
                gc.disable()
            if profiler is not None:
                profiler.enable()
            t0 = time.perf_counter()
            exec(code, module.__dict__)
            pipeline = module.__dict__["build"](made)
            t1 = time.perf_counter()
            text: str = pipeline.definition()
            t2 = time.perf_counter()
            if profiler is not None:
                profiler.disable()
    finally:
        gc.enable()
        sys.modules.pop(MODULE, None)
    return {"steps": t1 - t0, "definition": t2 - t1, "total": t2 - t0}, text


def _code(path: Path) -> Any:
    return compile(path.read_text(encoding="utf-8"), str(path), "exec", dont_inherit=True)


def _quiet() -> None:
    """The SDK warns once per step (a popped job name) and once per session; the messages
    are not the point and their formatting should not be timed."""
    os.environ.update(OFFLINE_ENV)
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")


def time_program(args: argparse.Namespace) -> dict[str, Any]:
    _quiet()
    result: dict[str, Any] = {}
    t0 = time.perf_counter()
    for module in (*IMPORTS, *args.imports):
        importlib.import_module(module)
    result["import_s"] = time.perf_counter() - t0
    result["sagemaker_version"] = importlib.import_module("sagemaker").__version__
    if args.warmup is not None:
        run_once(_code(args.warmup), args.sdk_config)
    code = _code(args.program)
    samples: list[dict[str, float]] = []
    started = time.perf_counter()
    text = ""
    while len(samples) < args.repeats:
        sample, text = run_once(code, args.sdk_config, no_gc=args.no_gc)
        samples.append(sample)
        if args.budget is not None and time.perf_counter() - started >= args.budget:
            break  # enough time spent at this N: fewer samples, said in the output
    result["samples"] = samples
    result["median"] = {k: statistics.median(s[k] for s in samples) for k in PARTS}
    result["definition_chars"] = len(text)
    result["network_attempts"] = list(ATTEMPTS)
    result["sdk_config"] = args.sdk_config
    result["no_gc"] = args.no_gc
    if args.out is not None:
        args.out.write_text(text, encoding="utf-8")
    if args.profile:
        result["profile"] = profile_once(code, args.sdk_config)
    return result


def profile_once(code: Any, sdk_config: str, top: int = 10) -> dict[str, Any]:
    """cProfile one more run: the top functions by own time and by cumulative time."""
    profiler = cProfile.Profile()
    run_once(code, sdk_config, profiler)
    raw: dict[Any, Any] = getattr(pstats.Stats(profiler, stream=io.StringIO()), "stats", {})
    entries = [
        {
            "function": f"{_short(filename)}:{line}({func})",
            "ncalls": ncalls,
            "tottime": tottime,
            "cumtime": cumtime,
        }
        for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in raw.items()
    ]
    return {
        "profiled_s": sum(e["tottime"] for e in entries),
        "by_own_time": sorted(entries, key=lambda e: -e["tottime"])[:top],
        "by_cumulative": sorted(entries, key=lambda e: -e["cumtime"])[: top * 6],
    }


def _short(filename: str) -> str:
    """The path inside site-packages, or the stdlib module's file name."""
    if "site-packages/" in filename:
        return filename.split("site-packages/", 1)[1]
    if "/lib/python3" in filename:
        return filename.split("/lib/python3", 1)[1].split("/", 1)[1]
    return Path(filename).name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="time a sagemaker SDK program's definition()")
    parser.add_argument("--program", type=Path, required=True, help="defines build(session)")
    parser.add_argument("--warmup", type=Path, help="a small program for the warm-up")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, help="where the last definition goes")
    parser.add_argument(
        "--budget", type=float, default=None, help="no further repeat after this many seconds"
    )
    parser.add_argument("--sdk-config", choices=("none", "optout"), default="none")
    parser.add_argument("--no-gc", action="store_true", help="pause the cyclic GC while timed")
    parser.add_argument("--imports", nargs="*", default=[], help="the program's modules")
    parser.add_argument("--profile", action="store_true", help="cProfile one more run")
    args = parser.parse_args(argv)
    result: dict[str, Any] = {"python": sys.version.split()[0]}
    result.update(time_program(args))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
