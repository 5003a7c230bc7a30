"""Run control on SageMaker: retries, caching, a step's description, and fail steps.

A step's ``retries`` become RetryPolicies. SageMaker retries a step only on the faults it
names: the service's own (``Step.SERVICE_FAULT``, ``Step.THROTTLING``) and a job's
(``SageMaker.JOB_INTERNAL_ERROR``, ``CAPACITY_ERROR``, ``RESOURCE_LIMIT``); a job whose
container exits non-zero is not retried, so the capability table calls retries emulated.
The delay is ``IntervalSeconds`` with a backoff rate of 1 (a fixed delay, as on the other
targets); without one, SageMaker's default of 1 s doubling.
"""

from __future__ import annotations

from typing import Any

from pipespec import ir

STEP_FAULTS = ["Step.SERVICE_FAULT", "Step.THROTTLING"]
JOB_FAULTS = [
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
]
# SageMaker keeps a cached step's result this long (an ISO 8601 duration).
CACHE_EXPIRY = "P30D"
MAX_ATTEMPTS = 20  # SageMaker's bound on MaxAttempts


def retry_policies(step: ir.Step, job: bool) -> list[dict[str, Any]]:
    """The step's RetryPolicies (job faults only for a step that runs a SageMaker job)."""
    if not step.retries:
        return []
    delay = step.retry_delay_s
    policy: dict[str, Any] = {
        "BackoffRate": 1.0 if delay is not None else 2.0,
        "IntervalSeconds": delay if delay is not None else 1,
        "MaxAttempts": min(step.retries, MAX_ATTEMPTS),
    }
    policies = [{**policy, "ExceptionType": list(STEP_FAULTS)}]
    if job:
        policies.append({**policy, "ExceptionType": list(JOB_FAULTS)})
    return policies


def step_settings(step: ir.Step, job: bool) -> dict[str, Any]:
    """The step's fields beside its Arguments: description, retries, cache."""
    settings: dict[str, Any] = {}
    if step.description:
        settings["Description"] = step.description[:3072]
    policies = retry_policies(step, job)
    if policies:
        settings["RetryPolicies"] = policies
    if step.cache:
        settings["CacheConfig"] = {"Enabled": True, "ExpireAfter": CACHE_EXPIRY}
    return settings


def fail_step(step: ir.Step) -> dict[str, Any]:
    """A `fail` step: the run stops with the message (a FailStep)."""
    assert isinstance(step.details, ir.FailDetails)
    return {"Name": step.id, "Type": "Fail", "Arguments": {"ErrorMessage": step.details.message}}
