"""A SageMaker pipeline definition in a names-aside normal form, to compare two
definitions of the same pipeline: pipespec's and the sagemaker SDK's ``definition()`` of
a hand-written program (``sagemaker_programs/``).

Pure Python on the parsed JSON (no sagemaker import). The form::

    {"pipeline": {"Version", "PipelineExperimentConfig"},
     "parameters": {NAME: {"Type", "DefaultValue"?, "EnumValues"?}},
     "steps": {KEY: {"Type", "branch": "COND-KEY:if" | "COND-KEY:else" | None,
                     "after": [KEY, ...],       # every step it waits for (see _after)
                     "Arguments": {...},        # normalised (see _value, _arguments)
                     "PropertyFiles": {...}, "RetryPolicies": [...], "CacheConfig": ...,
                     "Description": ...}}}

What is normalised, and why it may differ without the service seeing a difference:

- **Step keys.** A step is keyed by its name with the SDK's StepCollection suffixes
  (``-CreateModel``, ``-RegisterModel``: a ``ModelStep(name=X)`` is one step ``X-CreateModel``)
  taken off; pipespec names entries by spec id or ``<id>-<suffix>`` and the programs name
  steps the same way, so the keys pair a step with the spec step it comes from. Names
  inside ``Get`` paths are keyed alike.
- **Where steps sit.** Steps nested in a ConditionStep's ``IfSteps``/``ElseSteps`` are
  lifted into ``steps`` with their ``branch``; the ConditionStep's own branches become the
  sorted keys of their members (membership is what must match, not list order).
- **Dependencies as an order** (``after``): ``DependsOn`` plus every step a ``Get`` names
  (the service infers that edge; the SDK writes no ``DependsOn`` for it) plus the
  ConditionStep a branch member sits in, closed transitively. Equal closures are equal run
  orders; an edge nothing else implies still differs.
- **Conditions.** The top-level list and ``Or``'s list are conjunction/disjunction:
  sorted. Operands are normalised values.
- **Values** (`_value`, `_join`, `_unwrap`): a one-value join of a text reference (a
  String parameter, an execution variable) is the reference; adjacent texts of a
  ``Std:Join`` are merged (with its separator: the same text at run time), a join of text
  only is its text; a location join (first value ``s3:/...``) keeps what follows its
  leading text (bucket, prefix and pipeline name are the backend's choice: "S3 prefixes
  aside"); a content-keyed code URI
  ``s3://.../code/<hash>[/<file>]`` keeps its file name only (the SDK hashes path and
  bytes, pipespec the bytes), also JSON-encoded (``sagemaker_submit_directory``).
- **Commands.** ``ContainerEntrypoint + ContainerArguments`` is the argv the container
  runs, whichever way it is split: compared as ``ContainerCommand``.
- **Lists keyed by name**: processing inputs/outputs by ``InputName``/``OutputName``,
  training channels by ``ChannelName``, tuning ranges and metric definitions by ``Name``,
  property files by ``PropertyFileName``; retry policies sorted.
- **SDK defaults dropped** where they carry the API's own default (`_DEFAULTS`): the list
  of docs/dev/sagemaker-definition.md, "What varies and what must match", and the
  framework hyperparameters only the SDK reads (`_SDK_HYPERPARAMETERS`). A field with
  another value is kept and compared.

- **Launch plans.** A step that starts through pipespec's launcher runs the argv, env and
  secrets of its plan (``launch.json`` in its code folder), which the definition does not
  hold: pipespec's plan (from its upload manifest) and the program's (``PLANS``, written
  by hand) are compared as the step's ``Launch`` (`launch_form`).

Everything else (types, API field names and values, images, argv, instances,
hyperparameters, ranges, objectives, env, ``Get`` paths, ``JsonGet`` paths, property
files, retry policies, cache config) is the definition's own fact and compared as is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

Json = Any
SUFFIXES = ("-CreateModel", "-RegisterModel")
_CODE = re.compile(r"^s3://[^/]+/(?:.+/)?code/[0-9a-f]{32,64}(?P<file>/[^/]+)?/?$")
_STEP_GET = re.compile(r"^Steps\.(?P<name>[A-Za-z0-9_-]+)(?P<rest>\..*|\[.*)?$")
# SDK-written fields whose value is the API's default (dropped only with that value).
_DEFAULTS: dict[str, tuple[Json, ...]] = {
    "VolumeSizeInGB": (30,),
    "S3InputMode": ("File",),
    "S3DataDistributionType": ("FullyReplicated",),
    "S3CompressionType": ("None",),
    "S3UploadMode": ("EndOfJob",),
    "AppManaged": (False,),
    "TrainingInputMode": ("File",),
    "SkipModelValidation": ("None",),
    "EnableNetworkIsolation": (False,),
    "EnableInterContainerTrafficEncryption": (False,),
    "EnableManagedSpotTraining": (False,),
    "Environment": ({},),
    "Tags": ([],),
    "Bias": ({},),
    "Explainability": ({},),
    "InitialVariantWeight": (1, 1.0),
    "CategoricalParameterRanges": ([],),
    "ContinuousParameterRanges": ([],),
    "IntegerParameterRanges": ([],),
}
# SDK additions with no counterpart in the API's behaviour (Debugger, profiler).
_DROPPED = {"DebugHookConfig", "ProfilerConfig"}
# The framework toolkit's default log level (INFO); the name of the job the SDK would have
# started (timestamped; the service names the job in a pipeline); what a tuner writes for
# a framework estimator so that ``HyperparameterTuner.attach`` can rebuild it (the SDK's
# own metadata: the training toolkit does not read it).
_SDK_HYPERPARAMETERS: dict[str, tuple[Json, ...] | None] = {
    "sagemaker_container_log_level": ("20",),
    "sagemaker_job_name": None,  # any value
    "sagemaker_estimator_class_name": None,
    "sagemaker_estimator_module": None,
}
_DEFAULT_RUNTIME_S = 86400  # the SDK's StoppingCondition when none is given
_EXECUTION_TEXTS = (
    "PipelineName",
    "PipelineArn",
    "PipelineExecutionId",
    "PipelineExecutionArn",
    "TrainingJobName",
    "ProcessingJobName",
)


def step_key(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _get(path: str) -> str:
    found = _STEP_GET.match(path)
    if found is None:
        return path
    return f"Steps.{step_key(found['name'])}{found['rest'] or ''}"


def _text(value: str) -> str:
    code = _CODE.match(value)
    if code:
        return f"<code>{code['file'] or ''}"
    if len(value) > 1 and value[0] == value[-1] == '"':  # a JSON-encoded hyperparameter
        try:
            inner = json.loads(value)
        except ValueError:
            return value
        if isinstance(inner, str) and _CODE.match(inner):
            return json.dumps(_text(inner))
    return value


def _join(on: str, values: list[Json]) -> Json:
    """A join with adjacent texts merged (``a ON b`` is one text), a text-only join as its
    text, and a location's leading text (``s3://BUCKET/PREFIX/...``) as ``<s3>``."""
    merged: list[Json] = []
    for v in map(_value, values):
        if merged and isinstance(v, str) and isinstance(merged[-1], str):
            merged[-1] += on + v
        else:
            merged.append(v)
    if all(isinstance(v, str) for v in merged):
        return on.join(merged)
    if isinstance(merged[0], str) and merged[0].startswith("s3:/"):
        merged[0] = "<s3>"
    return {"Std:Join": {"On": on, "Values": merged}}


def _value(value: Json) -> Json:
    """A value inside Arguments with names, locations and code keys normalised."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, list):
        return [_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Get"} and isinstance(value["Get"], str):
        return {"Get": _get(value["Get"])}
    if set(value) == {"Std:Join"}:
        return _join(value["Std:Join"]["On"], value["Std:Join"]["Values"])
    return {k: _value(v) for k, v in value.items()}


def _drop_defaults(value: Json) -> Json:
    if isinstance(value, list):
        return [_drop_defaults(v) for v in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Json] = {}
    for key, item in value.items():
        if key in _DROPPED or (key in _DEFAULTS and item in _DEFAULTS[key]):
            continue
        kept[key] = _drop_defaults(item)
    return kept


def _by_name(items: list[Json], key: str) -> dict[str, Json]:
    found: dict[str, Json] = {}
    for item in items:
        rest = {k: v for k, v in item.items() if k != key}
        found[str(item.get(key))] = rest
    return found


def _command(spec: dict[str, Json]) -> None:
    """``ContainerEntrypoint + ContainerArguments`` as the one argv the container runs."""
    if "ContainerEntrypoint" in spec or "ContainerArguments" in spec:
        argv = spec.pop("ContainerEntrypoint", []) + spec.pop("ContainerArguments", [])
        spec["ContainerCommand"] = argv


def _sdk_only(name: str, value: Json) -> bool:
    if name not in _SDK_HYPERPARAMETERS:
        return False
    allowed = _SDK_HYPERPARAMETERS[name]
    return allowed is None or value in allowed


def _hyperparameters(params: dict[str, Json]) -> dict[str, Json]:
    return {k: v for k, v in params.items() if not _sdk_only(k, v)}


def _keyed_lists(args: dict[str, Json]) -> None:
    """Lists whose members the API tells apart by name, as dicts by that name."""
    if isinstance(args.get("ProcessingInputs"), list):
        args["ProcessingInputs"] = _by_name(args["ProcessingInputs"], "InputName")
    outputs = args.get("ProcessingOutputConfig", {})
    if isinstance(outputs.get("Outputs"), list):
        outputs["Outputs"] = _by_name(outputs["Outputs"], "OutputName")
    ranges = args.get("HyperParameterTuningJobConfig", {}).get("ParameterRanges", {})
    for kind, given in ranges.items():
        ranges[kind] = _by_name(given, "Name")
    holders = [args, args.get("TrainingJobDefinition", {})]
    holders += args.get("TrainingJobDefinitions", [])
    for holder in holders:
        if isinstance(holder.get("InputDataConfig"), list):
            holder["InputDataConfig"] = _by_name(holder["InputDataConfig"], "ChannelName")
        for field in ("HyperParameters", "StaticHyperParameters"):
            if isinstance(holder.get(field), dict):
                holder[field] = _hyperparameters(holder[field])
        stop = holder.get("StoppingCondition")
        if stop == {"MaxRuntimeInSeconds": _DEFAULT_RUNTIME_S}:
            del holder["StoppingCondition"]
        for spec in ("AlgorithmSpecification", "AppSpecification"):
            if isinstance(holder.get(spec), dict):
                _command(holder[spec])
                if isinstance(holder[spec].get("MetricDefinitions"), list):
                    metrics = holder[spec]["MetricDefinitions"]
                    holder[spec]["MetricDefinitions"] = _by_name(metrics, "Name")


def _canonical(value: Json) -> str:
    return json.dumps(value, sort_keys=True)


def _conditions(conditions: list[Json]) -> list[Json]:
    """Conditions with their operands normalised; an And/Or list sorted."""
    found = []
    for given in conditions:
        cond = dict(given)
        if "Conditions" in cond:
            cond["Conditions"] = _conditions(cond["Conditions"])
        if "Condition" in cond:
            (cond["Condition"],) = _conditions([cond["Condition"]])
        for operand in ("LeftValue", "RightValue", "QueryValue", "Values"):
            if operand in cond:
                cond[operand] = _value(cond[operand])
        found.append(cond)
    return sorted(found, key=_canonical)


def _refs(value: Json) -> set[str]:
    """The steps a value's ``Get`` paths name (normalised keys)."""
    if isinstance(value, list):
        return {r for v in value for r in _refs(v)}
    if not isinstance(value, dict):
        return set()
    if set(value) == {"Get"} and isinstance(value["Get"], str):
        found = _STEP_GET.match(value["Get"])
        return {step_key(found["name"])} if found else set()
    return {r for v in value.values() for r in _refs(v)}


def _step_form(entry: dict[str, Json], branch: str | None) -> dict[str, Json]:
    args = _drop_defaults(_value(entry.get("Arguments", {})))
    form: dict[str, Json] = {"Type": entry.get("Type"), "branch": branch}
    if entry.get("Type") == "Condition":
        args["Conditions"] = _conditions(args.get("Conditions", []))
        for side in ("IfSteps", "ElseSteps"):
            args[side] = sorted(step_key(s["Name"]) for s in args.get(side, []))
    else:
        _keyed_lists(args)
    form["Arguments"] = args
    direct = set(map(step_key, entry.get("DependsOn", [])))
    direct |= _refs(args) | _refs(entry.get("PropertyFiles", []))
    if branch is not None:
        direct.add(branch.rsplit(":", 1)[0])
    form["after"] = sorted(direct)
    if entry.get("PropertyFiles"):
        form["PropertyFiles"] = _by_name(entry["PropertyFiles"], "PropertyFileName")
    if entry.get("RetryPolicies"):
        form["RetryPolicies"] = sorted(entry["RetryPolicies"], key=_canonical)
    for field in ("CacheConfig", "Description"):
        if entry.get(field) is not None:
            form[field] = _value(entry[field])
    return form


def _walk(entries: list[Json], branch: str | None, steps: dict[str, Json]) -> None:
    for entry in entries:
        key = step_key(entry["Name"])
        if key in steps:
            raise ValueError(f"two steps are keyed {key!r}")
        steps[key] = _step_form(entry, branch)
        if entry.get("Type") == "Condition":
            arguments = entry.get("Arguments", {})
            _walk(arguments.get("IfSteps", []), f"{key}:if", steps)
            _walk(arguments.get("ElseSteps", []), f"{key}:else", steps)


def _closure(steps: dict[str, Json]) -> None:
    direct = {key: set(form["after"]) for key, form in steps.items()}
    for key, form in steps.items():
        seen: set[str] = set()
        todo = list(direct[key])
        while todo:
            dep = todo.pop()
            if dep not in seen:
                seen.add(dep)
                todo.extend(direct.get(dep, ()))
        form["after"] = sorted(seen)


def _texts(definition: dict[str, Json]) -> set[str]:
    """The ``Get`` paths whose value is text: String parameters, execution variables."""
    found = {
        f"Parameters.{p['Name']}" for p in definition.get("Parameters", []) if p["Type"] == "String"
    }
    return found | {f"Execution.{name}" for name in _EXECUTION_TEXTS}


def _unwrap(value: Json, texts: set[str]) -> Json:
    """A one-value join of a text reference as the reference: the same text (the SDK
    joins only a non-text variable where text goes, pipespec any reference)."""
    if isinstance(value, list):
        return [_unwrap(v, texts) for v in value]
    if not isinstance(value, dict):
        return value
    join = value.get("Std:Join") if set(value) == {"Std:Join"} else None
    if join is not None and len(join["Values"]) == 1:
        (only,) = join["Values"]
        if isinstance(only, dict) and set(only) == {"Get"} and only["Get"] in texts:
            return only
    return {k: _unwrap(v, texts) for k, v in value.items()}


def _segments(value: list[dict[str, Json]]) -> str:
    """A launch plan's value as one readable text: ``{env:NAME}`` for a parameter the job
    gets in its environment, ``{file:PATH}`` / ``{files:P1,P2}`` for reported values."""
    found = ""
    for seg in value:
        if "text" in seg:
            found += seg["text"]
        elif "env" in seg:
            found += "{env:" + seg["env"] + "}"
        elif "file" in seg:
            found += "{file:" + seg["file"] + "}"
        else:
            found += "{files:" + ",".join(seg["files"]) + "}"
    return found


def launch_form(plan: dict[str, Json]) -> dict[str, Json]:
    """pipespec's launch plan (``launch.json`` beside its launcher: what the job runs,
    read at start) in the readable form the programs write (``common.plan``)."""
    return {
        "argv": [_segments(v) for v in plan["argv"]],
        "env": {k: _segments(v) for k, v in plan.get("env", {}).items()},
        "secrets": dict(plan.get("secrets", {})),
        "unpack": sorted(plan.get("unpack", [])),
    }


def normal_form(
    definition: dict[str, Json], launches: dict[str, Json] | None = None
) -> dict[str, Json]:
    """The normal form of a parsed definition (``json.loads(pipeline.definition())``);
    ``launches``: step name -> the launch plan (``launch_form``) of a step that starts
    through pipespec's launcher, compared as the step's ``Launch``."""
    definition = _unwrap(definition, _texts(definition))
    steps: dict[str, Json] = {}
    _walk(definition.get("Steps", []), None, steps)
    for name, plan in (launches or {}).items():
        steps.setdefault(step_key(name), {})["Launch"] = plan
    _closure(steps)
    return {
        "pipeline": {
            "Version": definition.get("Version"),
            "PipelineExperimentConfig": definition.get("PipelineExperimentConfig"),
        },
        "parameters": _by_name(definition.get("Parameters", []), "Name"),
        "steps": steps,
    }


@dataclass(frozen=True)
class Difference:
    """One place where the two normal forms part; a value None: absent there."""

    path: str  # "steps.train.Arguments.ResourceConfig.InstanceType"
    sdk: Json
    pipespec: Json

    def __str__(self) -> str:
        return f"{self.path}:\n  SDK:      {_show(self.sdk)}\n  pipespec: {_show(self.pipespec)}"


def _show(value: Json, width: int = 300) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= width else text[:width] + "..."


_ABSENT = object()


def differences(sdk: Json, pipespec: Json, path: str = "") -> list[Difference]:
    """Every path (dict keys, list indexes) where the two values differ, leaves first
    found; a list of a different length is one difference."""
    if isinstance(sdk, dict) and isinstance(pipespec, dict):
        found: list[Difference] = []
        for key in sorted(set(sdk) | set(pipespec)):
            where = f"{path}.{key}" if path else str(key)
            left, right = sdk.get(key, _ABSENT), pipespec.get(key, _ABSENT)
            if left is _ABSENT or right is _ABSENT:
                found.append(
                    Difference(
                        where,
                        None if left is _ABSENT else left,
                        None if right is _ABSENT else right,
                    )
                )
            else:
                found += differences(left, right, where)
        return found
    if isinstance(sdk, list) and isinstance(pipespec, list) and len(sdk) == len(pipespec):
        return [
            d
            for i, pair in enumerate(zip(sdk, pipespec, strict=True))
            for d in differences(*pair, f"{path}[{i}]")
        ]
    if sdk != pipespec or type(sdk) is not type(pipespec):
        return [Difference(path, sdk, pipespec)]
    return []


def compare(
    sdk: dict[str, Json],
    pipespec: dict[str, Json],
    sdk_launches: dict[str, Json] | None = None,
    pipespec_launches: dict[str, Json] | None = None,
) -> list[Difference]:
    """The differences between two parsed definitions' normal forms."""
    return differences(normal_form(sdk, sdk_launches), normal_form(pipespec, pipespec_launches))
