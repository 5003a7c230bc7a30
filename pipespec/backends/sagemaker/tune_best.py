"""The small processing steps a tune step adds to pass on its best trial's outputs:
``<id>-best`` after a tuning job (``BEST_PROGRAM`` on the best job's ``output.tar.gz``) and
an emulated tune's ``<id>`` (``SELECT_PROGRAM`` over every trial's outputs).

Each runs one of pipespec's fixed programs (``tune_programs.py``), uploaded as a code
input; it needs only ``python3`` in the image, so it runs on the step's catalog image
(``target_images["sagemaker"]``) or else the step's own. Its value outputs are property
files named after the outputs, as a processing step's are.
"""

from __future__ import annotations

import json
from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.tune_programs import (
    BEST_PROGRAM,
    BEST_PROGRAM_FILE,
    PLAN_FILE,
    SELECT_PROGRAM,
    SELECT_PROGRAM_FILE,
)

INPUT_ROOT = "/opt/ml/processing/input"
OUTPUT_ROOT = "/opt/ml/processing/output"
CODE_DIR = f"{INPUT_ROOT}/code"
VOLUME_GB = 30
# Copying a few files is quick; a stuck download should not hold the run for a day.
TIMEOUT_S = 3600
_S3_INPUT = {
    "S3DataType": "S3Prefix",
    "S3InputMode": "File",
    "S3DataDistributionType": "FullyReplicated",
    "S3CompressionType": "None",
}


MAX_NAME = 64  # a pipeline step's name: [A-Za-z0-9_-]{1,64}


def entry_name(ctx: Context, step: ir.Step, suffix: str) -> str:
    """The name of an extra entry of the step (``<id>-<suffix>``), which must fit."""
    name = f"{step.id}-{suffix}"
    if len(name) > MAX_NAME:
        ctx.error(step, f"step name '{name}' is over SageMaker's {MAX_NAME} characters")
    return name


def _input(name: str, uri: Any, local: str) -> dict[str, Any]:
    s3 = {"S3Uri": uri, "LocalPath": local, **_S3_INPUT}
    return {"InputName": name, "AppManaged": False, "S3Input": s3}


def helper_step(
    ctx: Context,
    step: ir.Step,
    name: str,
    code: dict[str, str],
    argv: list[Any],
    inputs: dict[str, Any],
) -> dict[str, Any]:
    """A processing entry running ``python3 <first code file> ARGV`` with ``inputs``
    (input name -> S3 URI, at ``INPUT_ROOT/<name>``) and the step's outputs as its own."""
    image = step.target_images.get("sagemaker") or step.image
    program = next(iter(code))
    found = [_input(n, uri, f"{INPUT_ROOT}/{n}") for n, uri in inputs.items()]
    found.append(_input("code", ctx.code_folder(code, name), CODE_DIR))
    outputs = []
    for out in step.outputs:
        s3 = {"S3Uri": ctx.run_uri(name, out.name), "LocalPath": f"{OUTPUT_ROOT}/{out.name}"}
        s3["S3UploadMode"] = "EndOfJob"
        outputs.append({"OutputName": out.name, "AppManaged": False, "S3Output": s3})
    config: dict[str, Any] = {"Outputs": outputs}
    if ctx.options.kms_key:
        config["KmsKeyId"] = ctx.options.kms_key
    request = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": ctx.instance_type,
                "InstanceCount": 1,
                "VolumeSizeInGB": VOLUME_GB,
            }
        },
        "AppSpecification": {
            "ImageUri": image,
            "ContainerEntrypoint": ["python3", f"{CODE_DIR}/{program}"],
            "ContainerArguments": argv,
        },
        "RoleArn": ctx.role_arn,
        "ProcessingInputs": found,
        "ProcessingOutputConfig": config,
        "StoppingCondition": {"MaxRuntimeInSeconds": TIMEOUT_S},
    }
    files = [
        {"PropertyFileName": o.name, "OutputName": o.name, "FilePath": f"{o.name}.json"}
        for o in step.outputs
        if o.is_parameter
    ]
    entry: dict[str, Any] = {"Name": name, "Type": "Processing", "Arguments": request}
    if files:
        entry["PropertyFiles"] = files
    return entry


def best_step(
    ctx: Context, step: ir.Step, name: str, archive: Any, members: dict[str, str]
) -> dict[str, Any]:
    """``<id>-best``: the best job's files (output name -> member of its output.tar.gz)
    copied to the step's value outputs. Only those outputs: the model stays where the
    tuning job wrote it."""
    values = ir_outputs(step, set(members))
    argv: list[Any] = [f"{INPUT_ROOT}/best"]
    for out, member in sorted(members.items()):
        argv += [member, f"{OUTPUT_ROOT}/{out}/{out}.json"]
    code = {BEST_PROGRAM_FILE: BEST_PROGRAM}
    return helper_step(ctx, values, name, code, argv, {"best": archive})


def select_step(
    ctx: Context, step: ir.Step, trials: list[dict[str, Any]], root: Any, values: str | None
) -> dict[str, Any]:
    """An emulated tune's own entry: picks the best of the trials, whose outputs are under
    ``root`` (``<index>/<output>``), and copies its outputs (and writes its values to the
    output ``values``) as the step's."""
    details = step.details
    assert isinstance(details, ir.TuneDetails) and details.objective is not None
    local = f"{INPUT_ROOT}/trials"
    plan = {
        "copy": {o.name: f"{OUTPUT_ROOT}/{o.name}" for o in step.outputs if o.name != values},
        "goal": details.objective.goal,
        "metric": details.objective.metric,
        "metrics": "metrics",
        "root": local,
        "trials": trials,
        "values": f"{OUTPUT_ROOT}/{values}/{values}.json" if values else None,
    }
    code = {
        SELECT_PROGRAM_FILE: SELECT_PROGRAM,
        PLAN_FILE: json.dumps(plan, sort_keys=True, indent=1) + "\n",
    }
    return helper_step(ctx, step, step.id, code, [f"{CODE_DIR}/{PLAN_FILE}"], {"trials": root})


def ir_outputs(step: ir.Step, names: set[str]) -> ir.Step:
    """The step with only the outputs named (a helper entry declares just those)."""
    from dataclasses import replace

    return replace(step, outputs=tuple(o for o in step.outputs if o.name in names))
