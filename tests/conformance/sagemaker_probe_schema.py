"""AWS's pipeline-definition JSON Schema (``sagemaker_schema/``, vendored unmodified), the
corrections the probe applies to it when it loads, and validation against the result.

Runs in the ``sagemaker`` conformance venv (jsonschema from ``locks/sagemaker.txt``).

The schema is hand-written and lags the service and the SDK: the sagemaker 2.x SDK's own
output for ordinary pipelines fails it. Each entry of ``CORRECTIONS`` is one edit, applied to
the loaded copy in memory (the vendored file stays byte-for-byte AWS's), with why it is right:
the SDK emits the value (``sagemaker.workflow``) and botocore's service model of the API the
step calls accepts it (so the member-by-member checks still hold it to the real shape).
An edit whose location is gone (a new schema) fails loudly instead of silently not applying.

Errors under a ``oneOf`` of steps are reported from the branch of the step's own ``Type``
(jsonschema alone would only say "not valid under any of the given schemas").
"""

from __future__ import annotations

import copy
import importlib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = (
    Path(__file__).resolve().parent / "sagemaker_schema" / ("pipeline-definition.schema.json")
)
Json = Any
_STRING = {"$ref": "#/definitions/StringArgumentValue"}
_BOOLEAN = {"$ref": "#/definitions/BooleanArgumentValue"}
_ANY_OBJECT = {"type": "object"}
_TD = "/definitions/TrainingStep/properties/Arguments/properties"
_HPT = "/definitions/HyperParameterTrainingJobDefinition"
_RM = "/definitions/RegisterModelStep/properties/Arguments/properties"
_PA = "/definitions/ProcessingArgs/properties"

# (op, JSON pointer, value, why). op: "set" (the pointer's last key to value), "append" (value
# to the list at the pointer), "remove" (value from the list at the pointer).
CORRECTIONS: list[tuple[str, str, Json, str]] = [
    (
        "set",
        "/definitions/RetryPolicy/properties/ExceptionType",
        {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "string",
                "enum": [
                    "Step.SERVICE_FAULT",
                    "Step.THROTTLING",
                    "SageMaker.JOB_INTERNAL_ERROR",
                    "SageMaker.CAPACITY_ERROR",
                    "SageMaker.RESOURCE_LIMIT",
                    "Emr.RESOURCE_LIMIT",
                ],
            },
        },
        "The schema types ExceptionType as one string; the SDK's StepRetryPolicy and "
        "SageMakerJobStepRetryPolicy write a list of them (sagemaker.workflow.retry "
        "RetryPolicy.to_request), one policy covering several fault types. The enum is kept.",
    ),
    (
        "set",
        "/definitions/JoinFunction/properties/Std:Join",
        {
            "type": "object",
            "properties": {
                "On": {"type": "string"},
                "Values": {
                    "type": "array",
                    "items": {"type": ["string", "number", "boolean", "object"]},
                },
            },
            "required": ["Values"],
            "additionalProperties": False,
        },
        "The schema nests Values beside 'required' without 'properties', so Std:Join must be "
        "an object with no member and with Values: nothing satisfies it. The SDK's Join emits "
        "{'Std:Join': {'On': str, 'Values': [str | number | Get ...]}}.",
    ),
    (
        "set",
        "/definitions/JsonGetFunction",
        {
            "type": "object",
            "properties": {
                "Std:JsonGet": {
                    "type": "object",
                    "properties": {
                        "PropertyFile": {
                            "oneOf": [{"type": "string"}, {"$ref": "#/definitions/GetFunction"}]
                        },
                        "S3Uri": {"oneOf": [{"type": "string"}, {"type": "object"}]},
                        "Path": {"type": "string"},
                    },
                    "required": ["Path"],
                    "additionalProperties": False,
                }
            },
            "required": ["Std:JsonGet"],
            "additionalProperties": False,
        },
        "The schema has no JsonGet function, which ConditionStep conditions read property "
        "files with; the SDK's JsonGet emits {'Std:JsonGet': {'PropertyFile': {'Get': "
        "'Steps.<step>.PropertyFiles.<name>'}, 'Path': str}} (or 'S3Uri' instead of "
        "'PropertyFile').",
    ),
    (
        "append",
        "/definitions/StringArgumentValue/oneOf",
        {"$ref": "#/definitions/JoinFunction"},
        "Join is how the SDK builds strings at run time (output S3 URIs, hyperparameters from "
        "parameters, a FailStep's message): a string slot takes it.",
    ),
    (
        "append",
        "/definitions/StringArgumentValue/oneOf",
        {"$ref": "#/definitions/JsonGetFunction"},
        "A condition's LeftValue/RightValue is a JsonGet of a property file.",
    ),
    (
        "append",
        "/definitions/ConditionStep/properties/Arguments/properties/IfSteps/items/oneOf",
        {"$ref": "#/definitions/CreateModelStep"},
        "A condition's branch may hold a Model step (ModelStep(step_args=model.create(...)) "
        "in if_steps, as in AWS's abalone example); the schema lists only Training, Fail, "
        "Processing, Transform and RegisterModel there.",
    ),
    (
        "append",
        "/definitions/ConditionStep/properties/Arguments/properties/ElseSteps/items/oneOf",
        {"$ref": "#/definitions/CreateModelStep"},
        "The same gap in ElseSteps: a branch may create a model (to batch-score with it, "
        "samples/sagemaker/deploy_when.py); ConditionStep takes any step in either branch.",
    ),
    (
        "set",
        "/definitions/EndpointConfigStep/properties/Type/enum",
        ["EndpointConfig"],
        "The schema's EndpointConfigStep says Type 'Endpoint' (copied from EndpointStep); "
        "EndpointConfigStep writes 'EndpointConfig' (StepTypeEnum.ENDPOINT_CONFIG), so no "
        "endpoint config step could validate.",
    ),
    (
        "append",
        "/definitions/ConditionStep/properties/Arguments/properties/IfSteps/items/oneOf",
        {"$ref": "#/definitions/EndpointConfigStep"},
        "A deployment under a condition (deploy when the model is good enough): the "
        "EndpointConfig and Endpoint step types were added to the top-level Steps in 2025-04 "
        "but not to a condition's branches.",
    ),
    (
        "append",
        "/definitions/ConditionStep/properties/Arguments/properties/IfSteps/items/oneOf",
        {"$ref": "#/definitions/EndpointStep"},
        "See the previous correction (the Endpoint step).",
    ),
    (
        "set",
        "/definitions/NotCondition",
        {
            "type": "object",
            "properties": {
                "Type": {"type": "string", "enum": ["Not"]},
                "Condition": {
                    "oneOf": [
                        {"$ref": "#/definitions/BinaryCondition"},
                        {"$ref": "#/definitions/InCondition"},
                        {"$ref": "#/definitions/OrCondition"},
                        {"$ref": "#/definitions/NotCondition"},
                    ]
                },
            },
            "required": ["Type", "Condition"],
            "additionalProperties": False,
        },
        "The schema has no Not condition; ConditionNot.to_request writes "
        "{Type: Not, Condition: <any condition>} (sagemaker.workflow.conditions).",
    ),
    (
        "append",
        "/definitions/ConditionStep/properties/Arguments/properties/Conditions/items/oneOf",
        {"$ref": "#/definitions/NotCondition"},
        "A ConditionStep's conditions may be ConditionNot (see the previous correction).",
    ),
    (
        "set",
        "/definitions/OrCondition/properties/Conditions/items/anyOf",
        [
            {"$ref": "#/definitions/BinaryCondition"},
            {"$ref": "#/definitions/InCondition"},
            {"$ref": "#/definitions/OrCondition"},
            {"$ref": "#/definitions/NotCondition"},
        ],
        "ConditionOr takes any Condition, ConditionNot and ConditionOr included (an `and` "
        "inside an `or` is written Not(Or(Not a, Not b)), as SageMaker has no And).",
    ),
    (
        "set",
        "/properties/PipelineExperimentConfig",
        {
            "type": "object",
            "properties": {"ExperimentName": _STRING, "TrialName": _STRING},
            "additionalProperties": False,
        },
        "Pipeline.definition() always writes it (default: ExperimentName = "
        "Execution.PipelineName, TrialName = Execution.PipelineExecutionId).",
    ),
    (
        "set",
        f"{_PA}/ProcessingInputs/items/properties/AppManaged",
        _BOOLEAN,
        "ProcessingInput.AppManaged exists in CreateProcessingJob; the SDK writes it.",
    ),
    (
        "set",
        f"{_PA}/ProcessingOutputConfig/properties/Outputs/items/properties/AppManaged",
        _BOOLEAN,
        "ProcessingOutput.AppManaged exists in CreateProcessingJob; the SDK writes it.",
    ),
    (
        "set",
        "/definitions/ProcessingStep/properties/PropertyFiles",
        {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "PropertyFileName": {"type": "string"},
                    "OutputName": {"type": "string"},
                    "FilePath": {"type": "string"},
                },
                "required": ["PropertyFileName", "OutputName", "FilePath"],
                "additionalProperties": False,
            },
        },
        "A ProcessingStep's property_files (what JsonGet reads) are written as "
        "PropertyFiles: [{PropertyFileName, OutputName, FilePath}].",
    ),
    (
        "set",
        f"{_TD}/ProfilerConfig",
        _ANY_OBJECT,
        "CreateTrainingJob's ProfilerConfig, which Estimator writes by default; its members "
        "are checked against botocore's shape.",
    ),
    (
        "set",
        f"{_TD}/AlgorithmSpecification/properties/ContainerEntrypoint",
        {"type": "array", "items": _STRING},
        "CreateTrainingJob's AlgorithmSpecification.ContainerEntrypoint (a job running its "
        "own command); Estimator(container_entry_point=...) writes it.",
    ),
    (
        "set",
        f"{_TD}/AlgorithmSpecification/properties/ContainerArguments",
        {"type": "array", "items": _STRING},
        "CreateTrainingJob's AlgorithmSpecification.ContainerArguments; "
        "Estimator(container_arguments=...) writes it.",
    ),
    (
        "set",
        f"{_TD}/Environment",
        {"type": "object", "additionalProperties": _STRING},
        "CreateTrainingJob's Environment (a string map); Estimator(environment=...) writes it.",
    ),
    (
        "remove",
        f"{_HPT}/required",
        "ResourceConfig",
        "CreateHyperParameterTuningJob's training job definition takes ResourceConfig or "
        "HyperParameterTuningResourceConfig; HyperparameterTuner writes the latter.",
    ),
    (
        "set",
        f"{_HPT}/properties/HyperParameterTuningResourceConfig",
        _ANY_OBJECT,
        "See the previous correction; members checked against botocore's shape.",
    ),
    (
        "set",
        "/definitions/ContainerDefinition/properties/ModelDataUrl",
        _STRING,
        "A Model step's model data is commonly another step's output (a Get, or a Join such "
        "as TuningStep.get_top_model_s3_uri's); the schema allows only a literal string.",
    ),
    (
        "set",
        f"{_RM}/ModelApprovalStatus",
        _STRING,
        "CreateModelPackage's ModelApprovalStatus; RegisterModel writes it (enum checked "
        "against botocore).",
    ),
    (
        "set",
        f"{_RM}/SkipModelValidation",
        _STRING,
        "CreateModelPackage's SkipModelValidation; RegisterModel writes 'None' by default.",
    ),
    (
        "set",
        f"{_RM}/InferenceSpecification/properties/Containers/items/properties/Environment",
        {"type": "object", "additionalProperties": _STRING},
        "ModelPackageContainerDefinition.Environment; Model.register writes it ({} by default).",
    ),
    (
        "set",
        "/definitions/ContainerDefinition/properties/ModelDataSource",
        _ANY_OBJECT,
        "CreateModel's ModelDataSource: a model as an uncompressed S3 folder (S3Prefix, "
        "CompressionType None) instead of a model.tar.gz; Model(model_data={'S3DataSource': "
        "...}) writes it. Members checked against botocore's shape.",
    ),
    (
        "set",
        f"{_RM}/InferenceSpecification/properties/Containers/items/properties/ModelDataSource",
        _ANY_OBJECT,
        "The same ModelDataSource in a model package's container (Model.register over an "
        "uncompressed model folder).",
    ),
    (
        "set",
        f"{_RM}/CustomerMetadataProperties",
        {"type": "object", "additionalProperties": _STRING},
        "CreateModelPackage's CustomerMetadataProperties (a string map); Model.register "
        "writes it from customer_metadata_properties.",
    ),
]


def _resolve(schema: Json, pointer: str) -> tuple[Json, str]:
    """The container of the pointer's last key, and that key."""
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = schema
    for part in parents:
        node = node[part]  # KeyError: the correction's location is gone
    return node, last


def apply(schema: Json, corrections: list[tuple[str, str, Json, str]]) -> Json:
    fixed = copy.deepcopy(schema)
    for op, pointer, value, _why in corrections:
        node, key = _resolve(fixed, pointer)
        if op == "set":
            node[key] = copy.deepcopy(value)
        elif op == "append":
            node[key].append(copy.deepcopy(value))
        elif op == "remove":
            node[key].remove(value)  # ValueError: nothing left to correct
        else:
            raise ValueError(f"unknown correction op {op!r}")
    return fixed


@cache
def corrected_schema() -> Json:
    return apply(json.loads(SCHEMA_FILE.read_text(encoding="utf-8")), CORRECTIONS)


@cache
def _validator() -> Any:
    jsonschema = importlib.import_module("jsonschema")
    schema = corrected_schema()
    return jsonschema.Draft7Validator(schema)


def schema_problems(definition: Json) -> list[str]:
    """Every place the definition fails the corrected schema, most specific error first."""
    problems = []
    for error in _validator().iter_errors(definition):
        for path, message in _explain(error):
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
            problems.append(f"schema: {where or '(top)'}: {message}")
    return sorted(set(problems))


def corrections_needed(definitions: list[Json]) -> list[dict[str, Any]]:
    """Per correction: whether some definition fails the schema corrected by all the others
    (a correction nobody needs any more should go)."""
    jsonschema = importlib.import_module("jsonschema")
    original = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    report = []
    for index, (op, pointer, _value, why) in enumerate(CORRECTIONS):
        others = CORRECTIONS[:index] + CORRECTIONS[index + 1 :]
        try:
            validator = jsonschema.Draft7Validator(apply(original, others))
            needed = any(not validator.is_valid(d) for d in definitions)
        except Exception:  # e.g. a $ref to the definition this correction adds
            needed = True
        report.append({"op": op, "at": pointer, "why": why, "needed": needed})
    return report


def _explain(error: Any) -> Iterator[tuple[list[Any], str]]:
    if error.validator == "oneOf":
        branch = _branch_of(error)
        if branch is not None:
            for sub in error.context:
                if sub.relative_schema_path[0] == branch:
                    yield from _explain(sub)
            return
    yield list(error.absolute_path), _short(error.message)


def _branch_of(error: Any) -> int | None:
    """Which branch of a oneOf of steps is for the instance's ``Type``."""
    instance = error.instance
    if not isinstance(instance, dict) or not isinstance(instance.get("Type"), str):
        return None
    definitions = corrected_schema()["definitions"]
    for index, branch in enumerate(error.validator_value):
        ref = branch.get("$ref", "")
        target = definitions.get(ref.rsplit("/", 1)[-1], {}) if ref else branch
        if instance["Type"] in target.get("properties", {}).get("Type", {}).get("enum", []):
            return index
    return None


def _short(message: str) -> str:
    return message if len(message) <= 300 else message[:300] + "..."
