"""A ``tune`` step on SageMaker.

The standard train script on a catalog framework image (``runs_standard_tuning`` with a
``sagemaker`` image) becomes a TuningStep (CreateHyperParameterTuningJob) in script mode:

* the code travels as ``sourcedir.tar.gz`` (static hyperparameters ``sagemaker_program``
  and ``sagemaker_submit_directory``, JSON-encoded as the SDK writes them), holding
  pipespec's trial runner (``tune_programs.TRIAL_RUNNER``) as the program, the script, the
  runner's ``plan.json`` and, for a framework the image lacks (LightGBM on the scikit-learn
  image), a ``requirements.txt`` the container installs first;
* ranges from the search space (bounds and choices as text; ``log`` is Logarithmic,
  ``linear`` Linear, else Auto), the objective with a MetricDefinition whose regex reads
  the runner's ``pipespec-metric NAME=VALUE`` line; strategy Bayesian (SageMaker's
  default, which takes categorical ranges too), max_trials and parallel_trials as the job's
  resource limits;
* a param in the script's arguments reaches the runner as the static hyperparameter
  ``pipespec_param_NAME`` (a one-value ``Std:Join`` of its ``Get``).

The best model is ``<output path>/<best job>/output/model.tar.gz`` (a ``Std:Join`` with
``Get Steps.<id>.BestTrainingJob.TrainingJobName``, as the SDK's get_top_model_s3_uri
assembles it; packed). The step's value outputs (metrics, best_hyperparameters) come from
``<id>-best``, a processing step running ``BEST_PROGRAM`` on the best job's
``output.tar.gz``, where the runner wrote the script's metrics and the trial's values; it
runs on the step's catalog image (it needs only python3), declared as property files.

**Upload manifest form of the archive.** ``ctx.uploads`` maps an S3 URI to a file's text;
``sourcedir.tar.gz`` is not text, so its entry (a URI ending ``/sourcedir.tar.gz``) maps to
the JSON text ``{MEMBER NAME: TEXT, ...}``: the files that go into the archive, at its top
level, which ``upsert.py`` lists in the manifest (``tar_gz``) and writes beside it for the
upload to pack. Its key is the sha256 of that JSON text, so an unchanged step keeps its
key.

Any other tune (its own command, or a catalog script without a SageMaker image) cannot be a
tuning job: SageMaker's training job definition for tuning has no container entrypoint. It
is emulated (``tune_trials.py``).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pipespec import ir
from pipespec.backends.placeholders import Resolver, walk
from pipespec.backends.sagemaker.context import Context, Ref, script_file
from pipespec.backends.sagemaker.launch import Launch, catalog_packages
from pipespec.backends.sagemaker.parameters import get, join, param_ref
from pipespec.backends.sagemaker.processing import output_uri
from pipespec.backends.sagemaker.spot import spot_members, stopping_condition
from pipespec.backends.sagemaker.training import (
    CHANNEL_ROOT,
    MODEL_DIR,
    VOLUME_GB,
    channels,
    machine,
)
from pipespec.backends.sagemaker.tune_best import best_step, entry_name
from pipespec.backends.sagemaker.tune_programs import (
    METRIC_PREFIX,
    PLAN_FILE,
    TRIAL_RUNNER,
    TRIAL_RUNNER_FILE,
)
from pipespec.backends.sagemaker.tune_trials import emulated_tuning
from pipespec.ir.features import runs_standard_tuning

OUTPUT_DATA = "/opt/ml/output/data"  # SageMaker keeps it as the job's output.tar.gz
CONFIG_FILE = "/opt/ml/input/config/hyperparameters.json"
SOURCEDIR = "sourcedir.tar.gz"
PARAM_HYPERPARAMETER = "pipespec_param_"
VALUES_OUTPUT = "best_hyperparameters"
_SCALES = {"log": "Logarithmic", "linear": "Linear"}
_GOALS = {"maximize": "Maximize", "minimize": "Minimize"}
_RANGES = {"float": "ContinuousParameterRanges", "int": "IntegerParameterRanges"}
MAX_RANGES = 30  # per range type (CreateHyperParameterTuningJob)
MAX_CHOICES = 30
# A number as the runner prints it (Python's repr of a float).
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def tuning_steps(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """The step's entries: a tuning job (and ``<id>-best``), or the emulation's."""
    if runs_standard_tuning(step) and step.target_images.get("sagemaker"):
        return native_tuning(ctx, step)
    return emulated_tuning(ctx, step)


class PlanResolver(Resolver[Any]):
    """Each ``${...}`` of a trial's arguments as a segment of the runner's plan."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.params: set[str] = set()

    def text(self, step: ir.Step, text: str) -> Any:
        return {"text": text}

    def param(self, step: ir.Step, name: str) -> Any:
        self.params.add(name)
        return {"param": name}

    def input_literal(self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri) -> Any:
        return {"text": f"{CHANNEL_ROOT}/{inp.name}"}

    def input_artifact(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> Any:
        return {"text": f"{CHANNEL_ROOT}/{inp.name}"}

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> Any:
        copies = self.ctx.copies.get(source.step)
        if copies is None:
            return {"file": f"{CHANNEL_ROOT}/{inp.name}/{source.output}.json"}
        files = [f"{CHANNEL_ROOT}/{inp.name}/{i}/{source.output}.json" for i in range(len(copies))]
        return {"files": files}

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> Any:
        self.ctx.error(step, f"input '{inp.name}' is one_of: it is split before steps are built")
        return {"text": ""}

    def output(self, step: ir.Step, output: ir.Output) -> Any:
        if output.name == "model":
            return {"text": MODEL_DIR}
        if output.is_parameter:
            return {"text": f"{OUTPUT_DATA}/{output.name}.json"}
        self.ctx.error(
            step,
            f"output '{output.name}': a SageMaker tuning job keeps only each trial's model "
            "and values",
        )
        return {"text": ""}

    def item(self, step: ir.Step) -> Any:
        self.ctx.error(step, "foreach is unrolled before steps are built")
        return {"text": ""}

    def hyperparameter(self, step: ir.Step, name: str) -> Any:
        return {"hyperparameter": name}


def parameter_ranges(
    ctx: Context, step: ir.Step, space: ir.FrozenMap
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """(the job's ParameterRanges, the runner's dimensions: how to type each value)."""
    ranges: dict[str, list[dict[str, Any]]] = {}
    dimensions: dict[str, Any] = {}
    for name, dim in space.items():
        if dim.type == "categorical":
            values = [ir.thaw(v) for v in dim["values"]]
            texts = [v if isinstance(v, str) else json.dumps(v) for v in values]
            if len(texts) > MAX_CHOICES or len(set(texts)) != len(texts):
                ctx.error(step, f"search dimension '{name}': SageMaker takes up to "
                          f"{MAX_CHOICES} distinct choices")  # fmt: skip
            entry: dict[str, Any] = {"Name": name, "Values": texts}
            ranges.setdefault("CategoricalParameterRanges", []).append(entry)
            dimensions[name] = {
                "type": "categorical",
                "choices": dict(zip(texts, values, strict=True)),
            }
            continue
        if dim.type == "int":
            low, high = str(int(dim.min)), str(int(dim.max))
        else:
            low, high = repr(float(dim.min)), repr(float(dim.max))
        entry = {"Name": name, "MinValue": low, "MaxValue": high}
        entry["ScalingType"] = _SCALES.get(dim.scale or "", "Auto")
        ranges.setdefault(_RANGES[dim.type], []).append(entry)
        dimensions[name] = {"type": dim.type}
    for kind, found in ranges.items():
        if len(found) > MAX_RANGES:
            ctx.error(step, f"SageMaker takes up to {MAX_RANGES} {kind} in a tuning job")
    return ranges, dimensions


def sourcedir(ctx: Context, files: dict[str, str], owner: str) -> str:
    """The archive's S3 URI; its manifest entry lists the files that go in it, written
    beside the definition in ``owner``'s folder."""
    text = json.dumps(files, sort_keys=True, indent=1) + "\n"
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    folder = f"s3://{ctx.bucket}/{ctx.prefix}/code/{digest}"
    ctx.uploads[f"{folder}/{SOURCEDIR}"] = text
    ctx.own(folder, owner)
    return f"{folder}/{SOURCEDIR}"


def metric_definition(metric: str) -> dict[str, str]:
    """What SageMaker reads the objective from: the runner's line for it."""
    # Only the metric's name is escaped: the fixed text needs none in any regex dialect.
    return {"Name": metric, "Regex": METRIC_PREFIX + re.escape(metric) + "=" + _NUMBER}


def _plan(ctx: Context, step: ir.Step, launch: Launch) -> tuple[dict[str, Any], set[str]]:
    """The runner's plan (without the dimensions) and the params its arguments read."""
    assert step.script is not None
    resolver = PlanResolver(ctx)
    argv = [walk(step, value, resolver) for value in step.args]
    env = {name: walk(step, value, resolver) for name, value in step.env}
    at = next(
        (i + 1 for i, a in enumerate(argv[:-1]) if a == [{"text": "--hyperparameters"}]), None
    )
    plan = {
        "argv": argv,
        "config": CONFIG_FILE,
        "env": env,
        "hyperparameters_at": at,
        "metrics": f"{OUTPUT_DATA}/metrics.json",
        "script": script_file(step.script.name),
        "unpack": launch.unpack,
        "values": f"{OUTPUT_DATA}/{VALUES_OUTPUT}.json",
    }
    if step.secrets:
        ctx.error(step, "a tuning job's trials cannot read secrets: SageMaker runs the script")
    return plan, resolver.params


def native_tuning(ctx: Context, step: ir.Step) -> list[dict[str, Any]]:
    """A TuningStep running the standard script in the catalog image, and ``<id>-best``."""
    details = step.details
    assert isinstance(details, ir.TuneDetails) and details.objective is not None
    assert step.script is not None
    if not any(o.name == "metrics" for o in step.outputs):
        ctx.error(step, "a tune step reports its objective in its 'metrics' output")
    image = step.target_images.get("sagemaker")
    launch = Launch()
    inputs = channels(ctx, step, launch)
    plan, params = _plan(ctx, step, launch)
    ranges, plan["dimensions"] = parameter_ranges(ctx, step, details.search_space or ir.FrozenMap())
    plan["objective"] = details.objective.metric
    files = {
        PLAN_FILE: json.dumps(plan, sort_keys=True, indent=1) + "\n",
        TRIAL_RUNNER_FILE: TRIAL_RUNNER,
        str(plan["script"]): step.script.source,
    }
    packages = catalog_packages(step, image)
    if packages:
        files["requirements.txt"] = "".join(p + "\n" for p in packages)
    static: dict[str, Any] = {
        "sagemaker_container_log_level": "20",
        "sagemaker_program": json.dumps(TRIAL_RUNNER_FILE),
        "sagemaker_region": json.dumps(ctx.region),
        "sagemaker_submit_directory": json.dumps(sourcedir(ctx, files, step.id)),
    }
    static.update({PARAM_HYPERPARAMETER + p: join([param_ref(p)]) for p in sorted(params)})
    where = _output_path(ctx, step)
    definition = _job_definition(ctx, step, image, join(where, "/"), static)
    if inputs:
        definition["InputDataConfig"] = inputs
    config = {
        "Strategy": "Bayesian",
        "ResourceLimits": {
            "MaxNumberOfTrainingJobs": details.max_trials,
            "MaxParallelTrainingJobs": details.parallel_trials or 1,
        },
        "TrainingJobEarlyStoppingType": "Off",
        "HyperParameterTuningJobObjective": {
            "Type": _GOALS[details.objective.goal],
            "MetricName": details.objective.metric,
        },
        "ParameterRanges": ranges,
    }
    entries = [
        {
            "Name": step.id,
            "Type": "Tuning",
            "Arguments": {
                "HyperParameterTuningJobConfig": config,
                "TrainingJobDefinition": definition,
            },
        }
    ]
    return entries + _best_outputs(ctx, step, where)


def _job_definition(
    ctx: Context, step: ir.Step, image: Any, output_path: Any, static: dict[str, Any]
) -> dict[str, Any]:
    """The tuning job's TrainingJobDefinition (without its channels)."""
    details = step.details
    assert isinstance(details, ir.TuneDetails) and details.objective is not None
    instance_type, count = machine(ctx, step)
    output: dict[str, Any] = {"S3OutputPath": output_path}
    if ctx.options.kms_key:
        output["KmsKeyId"] = ctx.options.kms_key
    return {
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "MetricDefinitions": [metric_definition(details.objective.metric)],
        },
        "RoleArn": ctx.role_arn,
        "OutputDataConfig": output,
        "StoppingCondition": stopping_condition(step),
        "HyperParameterTuningResourceConfig": {
            "InstanceCount": count,
            "InstanceType": instance_type,
            "VolumeSizeInGB": VOLUME_GB,
        },
        "StaticHyperParameters": static,
        **spot_members(ctx, step),
    }


def _output_path(ctx: Context, step: ir.Step) -> list[Any]:
    """The trials' output path (each job writes ``<job name>/output/...`` under it)."""
    where: list[Any] = [f"s3://{ctx.bucket}", ctx.prefix, ctx.pipeline.name]
    return [*where, get("Execution.PipelineExecutionId"), step.id, "model"]


def _best_outputs(ctx: Context, step: ir.Step, where: list[Any]) -> list[dict[str, Any]]:
    """The refs of the step's outputs: the best job's model, and ``<id>-best``'s values."""
    best_job = get(f"Steps.{step.id}.BestTrainingJob.TrainingJobName")
    model = join([*where, best_job, "output", "model.tar.gz"], "/")
    ctx.exits[step.id] = [step.id]
    values = [o for o in step.outputs if o.is_parameter]
    for out in step.outputs:
        if out.name == "model":
            ctx.refs[(step.id, out.name)] = Ref(model, packed=True)
        elif not out.is_parameter:
            ctx.refs[(step.id, out.name)] = Ref("")  # an error: the resolver reported it
    if not values:
        return []
    name = entry_name(ctx, step, "best")
    archive = join([*where, best_job, "output", "output.tar.gz"], "/")
    members = {o.name: f"{o.name}.json" for o in values}
    entry = best_step(ctx, step, name, archive, members)
    for out in values:
        ctx.refs[(step.id, out.name)] = Ref(output_uri(name, out.name), (name, out.name))
    ctx.exits[step.id] = [name]
    return [entry]
