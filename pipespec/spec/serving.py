"""The serving image of a model: the image that runs predictions, not the one that trained.

A step that makes or uses a model may name it (`serving_image:` on train, tune, register,
deploy, batch_predict); a step that uses a model and names none inherits the one named by
the step its `model` input comes from, through a chain of registers (train -> register ->
batch_predict), so the image is written once, where the model is made.
"""

from __future__ import annotations

from collections.abc import Mapping

from pipespec.spec import models

SERVING_KINDS = ("train", "tune", "register", "deploy", "batch_predict")
# Steps that run in the serving image on targets that run the step's own container.
RUNS_IN_SERVING_IMAGE = ("batch_predict",)


def serving_image(step: models.StepBase, steps: Mapping[str, models.StepBase]) -> str | None:
    """The step's own `serving_image`, else the one its model input's producer resolves to."""
    seen: set[int] = set()
    current: models.StepBase | None = step
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        own = getattr(current, "serving_image", None)
        if isinstance(own, str):
            return own
        ref = (current.inputs or {}).get("model")
        current = steps.get(ref.split(".", 1)[0]) if isinstance(ref, str) and "." in ref else None
    return None
