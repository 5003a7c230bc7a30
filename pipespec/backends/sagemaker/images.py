"""Images SageMaker cannot pull as written: its jobs and models pull from Amazon ECR (a
private repository in an account; for training, a private registry reached through a VPC
too). An image named anywhere else (Docker Hub, ghcr.io, ECR Public) is copied to ECR by the
user first; pipespec says so once per image, naming the steps that use it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

ECR_RE = re.compile(r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/")
# Where a definition names a job's image: a processing job, a training or tuning job (a
# model's serving image is warned about by the model steps, with its own fix).
_IMAGE_KEYS = frozenset({"ImageUri", "TrainingImage"})


def _images(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in _IMAGE_KEYS and isinstance(inner, str):
                yield inner
            else:
                yield from _images(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _images(inner)


def _entries(steps: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for entry in steps:
        yield entry
        if entry.get("Type") == "Condition":
            arguments = entry["Arguments"]
            yield from _entries(arguments["IfSteps"] + arguments["ElseSteps"])


def outside_ecr(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Image -> the entries that name it, for each image not in Amazon ECR."""
    found: dict[str, list[str]] = {}
    for entry in _entries(doc["Steps"]):
        if entry.get("Type") == "Condition":
            continue  # its branches are entries of their own
        for image in _images(entry.get("Arguments", {})):
            if not ECR_RE.match(image) and entry["Name"] not in found.get(image, []):
                found.setdefault(image, []).append(entry["Name"])
    return found
