"""What the catalog gives `register` and `batch_predict` steps: a standard script and image.

A step that runs its own command or script gets nothing: it is complete as written. The
framework (for the image) is the one of the train/tune step whose model the step uses,
through any register steps in between.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipespec.fill.catalog_fill import model_source
from pipespec.spec.serving import serving_image

if TYPE_CHECKING:
    from pipespec.fill.catalog_fill import StepFill, _Filler


def fill_registry(filler: _Filler, kind: str) -> StepFill | None:
    step = filler.step
    if step.command is not None or step.script is not None:
        return None
    if kind == "register":
        return _fill_register(filler)
    return _fill_batch_predict(filler)


def _fill_register(filler: _Filler) -> StepFill | None:
    """`pipespec:register` needs only the model directory and mlflow: any model will do."""
    step, catalog, fill = filler.step, filler.catalog, filler.fill
    source = f"catalog:register@{catalog.version}"
    producer = model_source(filler.vspec, step)
    framework = getattr(producer, "framework", None)
    if framework is not None:
        filler.image_for(framework, f"catalog:{framework}@{catalog.version}")
    filler.put("script", "pipespec:register", source)
    filler.put("args", register_args(filler), source)
    return fill


def register_args(filler: _Filler) -> list[str]:
    step = filler.step
    args = ["--model", "${inputs.model}", "--model-group", str(getattr(step, "model_group", ""))]
    args += ["--approval", str(getattr(step, "approval", "pending"))]
    if "metrics" in (step.inputs or {}):
        args += ["--metrics", "${inputs.metrics}"]
    if step.description is not None:
        # Free text: one that starts with "-" would read as an option to argparse (and to
        # the contract check), so it is attached to its flag.
        if step.description.startswith("-"):
            args += [f"--description={step.description}"]
        else:
            args += ["--description", step.description]
    parent = getattr(step, "parent_model", None)
    if parent is not None:
        args += ["--parent-model", parent]
    for key, value in sorted((getattr(step, "tags", None) or {}).items()):
        args += ["--tag", f"{key}={value}"]
    served = serving_image(step, filler.vspec.steps)
    if served is not None:
        args += ["--serving-image", served]
    return [*args, "--model-version", "${outputs.model_version}"]


def _fill_batch_predict(filler: _Filler) -> StepFill | None:
    """`pipespec:batch_predict` reads only models the standard train script wrote: the
    model's producer must run (or be filled with) `pipespec:train`."""
    step, catalog, fill = filler.step, filler.catalog, filler.fill
    producer = model_source(filler.vspec, step)
    framework = getattr(producer, "framework", None)
    if producer is None or framework is None or not catalog.has_standard_scripts(framework):
        return None
    if producer.command is not None or producer.script not in (None, "pipespec:train"):
        return None
    source = f"catalog:{framework}@{catalog.version}"
    served = serving_image(step, filler.vspec.steps)
    if served is not None:
        # The step runs in the model's serving image, not the catalog's.
        filler.put("image", served, "serving_image")
    else:
        filler.image_for(framework, source, role="predict")
    args = ["--model", "${inputs.model}", "--data", "${inputs.data}"]
    keep = getattr(step, "keep_columns", None)
    if keep:
        args += ["--keep-columns", ",".join(keep)]
    filler.put("script", "pipespec:batch_predict", source)
    filler.put("args", [*args, "--predictions", "${outputs.predictions}"], source)
    return fill
