"""What the catalog says about a step for the targets that run models as their own
services (Vertex AI now): the image that serves the step's model, and the packages a
catalog image needs installed before a standard script runs in it.

Derived at lowering, from the catalog of this pipespec version, not pinned in the lock:
they follow the framework the lock pinned (its `image.<target>` provenance), so a lock
needs no refill for them.
"""

from __future__ import annotations

import re

from pipespec import ir
from pipespec.fill.catalog import CatalogError, load_catalog
from pipespec.fill.catalog_fill import model_source, sagemaker_region
from pipespec.fill.info import FillInfo
from pipespec.fill.scripts import SERVING_HANDLER, standard_script
from pipespec.ir.features import STANDARD_TRAIN_SCRIPT
from pipespec.spec import models
from pipespec.spec.semantics import step_kind
from pipespec.spec.serving import SERVING_KINDS, serving_image
from pipespec.spec.validate import ValidatedSpec

# Targets that deploy models as their own services, with a catalog of prebuilt images.
SERVING_TARGETS = ("vertex", "sagemaker")
_ECR_REGION = re.compile(r"\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com/")


def _catalog_framework(provenance: str | None) -> str | None:
    """`catalog:xgboost@2026.11.0` -> `xgboost` (a catalog image's framework)."""
    if provenance is None or not provenance.startswith("catalog:"):
        return None
    return provenance.removeprefix("catalog:").split("@", 1)[0] or None


def serving_images(vspec: ValidatedSpec, step: models.StepBase) -> dict[str, str]:
    """Target -> the image serving the model the step makes or uses: the spec's own
    `serving_image` (on the step or where its model was made), else the catalog's
    prediction image for the model's framework on that target."""
    if step_kind(step) not in SERVING_KINDS:
        return {}
    own = serving_image(step, vspec.steps)
    if own is not None:
        return dict.fromkeys(SERVING_TARGETS, own)
    source = step if step_kind(step) in ("train", "tune") else model_source(vspec, step)
    framework = getattr(source, "framework", None)
    if not isinstance(framework, str):
        return {}
    catalog = load_catalog()
    found: dict[str, str] = {}
    for target in SERVING_TARGETS:
        region = sagemaker_region(vspec) if target == "sagemaker" else None  # images per region
        try:
            image = catalog.image(framework, target, role="predict", region=region)
        except CatalogError:
            image = None
        if image is not None:
            found[target] = image
    return found


# Steps that serve a model in its serving image (train and tune only name the image).
_SERVED_KINDS = ("deploy", "register", "batch_predict")


def serving_code(vspec: ValidatedSpec, step: models.StepBase) -> dict[str, ir.ServingCode]:
    """Target -> pipespec's inference handler (and the packages its image lacks), where the
    step serves a model of the standard train script in the catalog's serving image and
    that image is a framework image, which imports a handler to load any model (SageMaker's
    scikit-learn and XGBoost inference containers). The spec's own serving_image: none."""
    if step_kind(step) not in _SERVED_KINDS or serving_image(step, vspec.steps) is not None:
        return {}
    source = model_source(vspec, step)
    framework = getattr(source, "framework", None)
    if getattr(source, "script", None) != STANDARD_TRAIN_SCRIPT or not isinstance(framework, str):
        return {}
    catalog = load_catalog()
    try:
        framework_mode = catalog.sagemaker_mode(framework, role="predict") == "framework"
        if not (catalog.has_standard_scripts(framework) and framework_mode):
            return {}
        needed = tuple(catalog.requirements(framework, "sagemaker"))
    except CatalogError:
        return {}
    return {"sagemaker": ir.ServingCode(standard_script(SERVING_HANDLER), needed)}


def target_images(sid: str, fill: FillInfo, *, gpu: bool) -> dict[str, str]:
    """The catalog's images the lock pinned for the step; with ``gpu`` (the step asks for
    GPUs, after defaults), each swapped for the catalog's GPU build of the same image,
    where the target has one: the lock pins the framework, `resources` picks the build."""
    pinned = dict(fill.target_images.get(sid, {}))
    if not gpu:
        return pinned
    provenance = fill.provenance.get(sid, {})
    catalog = load_catalog()
    for target, image in pinned.items():
        framework = _catalog_framework(provenance.get(f"image.{target}"))
        if framework is None:
            continue
        # A SageMaker image is per region: the pinned image's own region picks the build.
        region = _ECR_REGION.search(image) if target == "sagemaker" else None
        where = region.group(1) if region else None
        for role in ("train", "predict"):  # the build of whichever image was pinned
            try:
                if catalog.image(framework, target, role=role, region=where) != image:
                    continue
                built = catalog.image(framework, target, role=role, region=where, gpu=True)
                pinned[target] = built or image
            except CatalogError:
                continue
            break
    return pinned


def target_requirements(sid: str, fill: FillInfo) -> dict[str, tuple[str, ...]]:
    """Target -> packages its catalog image lacks for the step's framework (Vertex's
    scikit-learn image runs LightGBM once `lightgbm` is installed)."""
    provenance = fill.provenance.get(sid, {})
    catalog = load_catalog()
    found: dict[str, tuple[str, ...]] = {}
    for target in fill.target_images.get(sid, {}):
        framework = _catalog_framework(provenance.get(f"image.{target}"))
        if framework is None:
            continue
        try:
            needed = catalog.requirements(framework, target)
        except CatalogError:
            continue
        if needed:
            found[target] = tuple(needed)
    return found
