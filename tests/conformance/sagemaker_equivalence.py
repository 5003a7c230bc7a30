"""Build hand-written sagemaker SDK programs (``sagemaker_programs/<example>.py``) offline
and hand back their ``definition()``, to compare with pipespec's definition of the same
pipeline in the normal form of ``sagemaker_normal_form.py``.

Runs in the ``sagemaker`` conformance venv (sagemaker 2.257.7; locks/sagemaker.txt), as a
module with the repository root on ``PYTHONPATH``::

    python -m tests.conformance.sagemaker_equivalence PROGRAM.py [...]

prints one JSON object: program stem -> ``{"definition": ..., "launches": PLANS,
"network_attempts": [...]}`` or ``{"error": TRACEBACK}``. A program defines
``build(session) -> Pipeline``, ``REGION`` and, for its steps that start through
pipespec's launcher, ``PLANS`` (step name -> the plan, ``common.plan``). It gets a
``PipelineSession`` of that region that sends nothing (``sagemaker_offline``: dummy
keys, every AWS request and every connection refused and recorded, telemetry opted out).

The comparison runs in the test process (`definitions` fetches the SDK side once; the
normal forms are pure Python), so a mutated pipespec definition costs no venv run.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import runpy
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.conformance import sagemaker_offline as offline
from tests.conformance.venv_runner import ProbeError, run_json

VENV = "sagemaker"
MODULE = "tests.conformance.sagemaker_equivalence"
PROGRAMS = Path(__file__).resolve().parent / "sagemaker_programs"
DEFAULT_TIMEOUT_S = 600.0  # eight programs, each importing the SDK's estimators: ~1 min


def _session(region: str, bucket: str) -> Any:
    """``sagemaker_offline.offline_session`` for the program's region and bucket."""
    boto3 = importlib.import_module("boto3")
    context = importlib.import_module("sagemaker.workflow.pipeline_context")
    boto = boto3.Session(
        region_name=region, aws_access_key_id="AKIDOFFLINE", aws_secret_access_key="offline"
    )
    boto._session.register("before-send", offline._refuse_aws)
    session = context.PipelineSession(
        boto_session=boto, default_bucket=bucket, sagemaker_config=offline.SDK_CONFIG
    )
    session._default_bucket = bucket  # resolved: default_bucket() must not call S3
    return session


def build(program: Path) -> dict[str, Any]:
    """The program's definition and the network attempts made building it."""
    os.environ.update(offline.OFFLINE_ENV)
    del offline.ATTEMPTS[:]
    # The SDK prints (config INFO lines) on stdout, which carries the JSON answer.
    with offline.no_network(), contextlib.redirect_stdout(sys.stderr):
        namespace = runpy.run_path(str(program), run_name=f"program_{program.stem}")
        os.environ["AWS_DEFAULT_REGION"] = namespace["REGION"]
        session = _session(namespace["REGION"], namespace.get("BUCKET", offline.BUCKET))
        pipeline = namespace["build"](session)
        definition = json.loads(pipeline.definition())
    launches = namespace.get("PLANS", {})
    return {
        "definition": definition,
        "launches": launches,
        "network_attempts": list(offline.ATTEMPTS),
    }


def main(argv: Sequence[str]) -> int:
    if not argv:
        sys.stderr.write(__doc__ or "")
        return 2
    results: dict[str, Any] = {}
    for arg in argv:
        program = Path(arg)
        try:
            results[program.stem] = build(program)
        except Exception:  # any failure of the program or the SDK is the answer
            results[program.stem] = {"error": traceback.format_exc()}
    json.dump(results, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


def definitions(
    programs: Sequence[Path], *, timeout: float = DEFAULT_TIMEOUT_S
) -> dict[str, dict[str, Any]]:
    """Each program's SDK definition (or error), from one subprocess in the venv."""
    args = [str(Path(p).resolve()) for p in programs]
    results = run_json(VENV, MODULE, args, timeout=timeout)
    if not isinstance(results, dict) or set(results) != {Path(p).stem for p in programs}:
        raise ProbeError(f"{len(programs)} programs, answer: {str(results)[-2000:]}")
    return results


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
