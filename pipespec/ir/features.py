"""The language features a pipeline can use: what capability tables are keyed by.

A feature is named from the spec's side (what the user wrote), never from a target's.
``features_used`` finds them in a pipeline, each with the steps that use it, so the
portability check and report are one mechanism for every target.
"""

from __future__ import annotations

from enum import Enum


class Feature(str, Enum):
    CONTAINER_STEP = "container step (image and command)"
    SCRIPT_STEP = "script step (a Python script run by the step)"
    PARAMS = "run-time params"
    PARAM_CONSTRAINTS = "param enum/pattern checked at trigger time"
    SCHEDULE = "schedule"
    DATA_DEPENDENCY = "data passed between steps (artifacts)"
    PARAMETER_OUTPUT = "parameter or metrics output read by another step"
    CONDITION = "when: condition"
    FOREACH_LITERAL = "foreach over a literal list"
    FOREACH_PARAM = "foreach over a list param"
    FOREACH_OUTPUT = "foreach over a list output"
    AFTER = "after: ordering without data"
    RETRIES = "retries and retry delay"
    TIMEOUT = "timeout"
    RESOURCES = "cpu and memory requests"
    GPU = "GPU count"
    ACCELERATOR = "accelerator type"
    INSTANCE_TYPE = "instance type"
    SECRETS = "secrets as environment variables"
    TUNE_NATIVE = "tune: search space, objective, trials"
    TUNE_OWN_COMMAND = "tune with the step's own command"
    DEPLOY_ENDPOINT = "deploy to an endpoint"
    MONITOR_DRIFT = "monitor: drift threshold"
    MONITOR_SCHEDULE = "monitor with its own schedule"
