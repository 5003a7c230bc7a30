"""What the deterministic catalog gives a step: hyperparameters, images, standard scripts.

Each kind the catalog knows (train/tune, evaluate, SQL ingest; register and batch_predict
in catalog_registry, monitor in catalog_monitor) has its own function; a
value the user wrote is never replaced (for `hyperparameters`, only missing keys are added).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipespec.spec import models
from pipespec.spec.semantics import effective_outputs, step_kind
from pipespec.spec.validate import ValidatedSpec

if TYPE_CHECKING:
    from pipespec.fill.catalog import Catalog

TARGETS_WITH_IMAGES = ("kubernetes", "vertex", "sagemaker")


@dataclass
class StepFill:
    fields: dict[str, Any] = field(default_factory=dict)
    provenance: dict[str, str] = field(default_factory=dict)
    target_images: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # path beside the spec -> text
    model: str | None = None


def _producer(vspec: ValidatedSpec, ref: object) -> models.StepBase | None:
    if not isinstance(ref, str) or "." not in ref:
        return None
    return vspec.steps.get(ref.split(".", 1)[0])


def model_source(vspec: ValidatedSpec, step: models.StepBase) -> models.StepBase | None:
    """The train/tune step whose model this step consumes (for evaluate, deploy), through
    any register steps between them (train -> register -> batch_predict)."""
    producer = _producer(vspec, (step.inputs or {}).get("model"))
    seen: set[int] = set()
    while producer is not None and step_kind(producer) == "register" and id(producer) not in seen:
        seen.add(id(producer))
        producer = _producer(vspec, (producer.inputs or {}).get("model"))
    if producer is not None and step_kind(producer) in ("train", "tune"):
        return producer
    return None


def sagemaker_region(vspec: ValidatedSpec) -> str | None:
    targets = vspec.loaded.data.get("targets") or {}
    region = (targets.get("sagemaker") or {}).get("region")
    return region if isinstance(region, str) else None


def catalog_images(
    catalog: Catalog, framework: str, region: str | None, role: str = "train"
) -> dict[str, str]:
    images: dict[str, str] = {}
    for target in TARGETS_WITH_IMAGES:
        try:
            image = catalog.image(framework, target, role=role, region=region)
        except KeyError:
            image = None
        if image:
            images[target] = image
    return images


@dataclass
class _Filler:
    """One step's fill as it is put together, with what every kind's rules need."""

    vspec: ValidatedSpec
    step: models.StepBase
    defaults: models.Defaults
    catalog: Catalog
    fill: StepFill = field(default_factory=StepFill)

    def put(self, name: str, value: Any, source: str) -> None:
        if getattr(self.step, name, None) is None:
            self.fill.fields[name] = value
            self.fill.provenance[name] = source

    def image_for(self, framework: str, source: str, role: str = "train") -> None:
        images = catalog_images(self.catalog, framework, sagemaker_region(self.vspec), role)
        self.fill.target_images = images
        for target in images:
            self.fill.provenance[f"image.{target}"] = source
        if self.step.image is None and self.defaults.image is None and "kubernetes" in images:
            self.fill.fields["image"] = images["kubernetes"]
            self.fill.provenance["image"] = source

    def standard_script(self, framework: str) -> bool:
        """Whether the catalog's own script may run the step (the user wrote no command)."""
        step = self.step
        return (
            step.command is None
            and step.script is None
            and self.catalog.has_standard_scripts(framework)
        )


def catalog_fill(
    vspec: ValidatedSpec,
    sid: str,
    step: models.StepBase,
    defaults: models.Defaults,
    catalog: Catalog,
) -> StepFill | None:
    """What the catalog can give this step, or None when it has nothing to offer."""
    kind = step_kind(step)
    filler = _Filler(vspec, step, defaults, catalog)
    if kind in ("train", "tune"):
        return _fill_trainer(filler, kind)
    if kind == "evaluate":
        return _fill_evaluate(filler)
    if kind == "ingest":
        return _fill_sql_ingest(filler)
    if kind == "monitor":
        from pipespec.fill.catalog_monitor import fill_monitor

        return fill_monitor(filler)
    if kind in ("register", "batch_predict"):
        from pipespec.fill.catalog_registry import fill_registry

        return fill_registry(filler, kind)
    return None


def _fill_trainer(filler: _Filler, kind: str) -> StepFill | None:
    step, catalog, fill = filler.step, filler.catalog, filler.fill
    framework = getattr(step, "framework", None)
    task = getattr(step, "task", None)
    if framework is None or task is None:
        return None
    source = f"catalog:{framework}@{catalog.version}"
    # The catalog's hyperparameters and search spaces are the standard script's: a step
    # running its own command or script gets neither (its code may not take them).
    own_code = step.command is not None or not (step.script or "pipespec:").startswith("pipespec:")
    merged = {} if own_code else _merge_hyperparameters(filler, framework, task, source)
    filler.image_for(framework, source)
    if kind == "tune":
        filler.put("objective", catalog.objective(task), f"catalog:{task}@{catalog.version}")
        if not own_code:
            filler.put("search_space", catalog.search_space(framework, task), source)
        filler.put("max_trials", 10, source)
        filler.put("parallel_trials", 2, source)
    if filler.standard_script(framework):
        inputs = step.inputs or {}
        args = ["--framework", framework, "--task", task, "--train", "${inputs.train}"]
        if "validation" in inputs:
            args += ["--validation", "${inputs.validation}"]
        args += ["--model", "${outputs.model}"]
        if kind == "tune":
            args += ["--metrics", "${outputs.metrics}"]
        hp = merged if merged else {}
        args += ["--hyperparameters", json.dumps(hp, sort_keys=True, separators=(",", ":"))]
        filler.put("script", "pipespec:train", source)
        filler.put("args", args, source)
    return fill if fill.fields or fill.target_images else None


def _merge_hyperparameters(
    filler: _Filler, framework: str, task: str, source: str
) -> dict[str, Any]:
    """The catalog's hyperparameters under the user's; filled in when that adds any."""
    catalog, fill = filler.catalog, filler.fill
    user_hp = dict(getattr(filler.step, "hyperparameters", None) or {})
    # A catalog default gives way to a user value under another name for the same knob
    # (xgboost's `eta` is scikit-learn's `learning_rate`).
    aliases = catalog.hyperparameter_aliases(framework)
    user_knobs = {aliases.get(k, k) for k in user_hp}
    merged = {
        k: v
        for k, v in catalog.hyperparameters(framework, task).items()
        if aliases.get(k, k) not in user_knobs or k in user_hp
    }
    for key in merged:
        fill.provenance[f"hyperparameters.{key}"] = "user" if key in user_hp else source
    merged.update(user_hp)
    if merged != user_hp:
        fill.fields["hyperparameters"] = merged
        fill.provenance.setdefault("hyperparameters", source if not user_hp else "user+" + source)
    return merged


def _fill_evaluate(filler: _Filler) -> StepFill | None:
    step, catalog, fill = filler.step, filler.catalog, filler.fill
    producer = model_source(filler.vspec, step)
    task = getattr(step, "task", None) or getattr(producer, "task", None)
    framework = getattr(producer, "framework", None)
    if task is None:
        return None
    filler.put("metrics", catalog.metrics(task), f"catalog:{task}@{catalog.version}")
    if framework is not None:
        source = f"catalog:{framework}@{catalog.version}"
        filler.image_for(framework, source)
        inputs = step.inputs or {}
        data = "test" if "test" in inputs else ("data" if "data" in inputs else None)
        if filler.standard_script(framework) and data is not None:
            filler.put("script", "pipespec:evaluate", source)
            args = ["--model", "${inputs.model}", "--test", "${inputs." + data + "}"]
            filler.put("args", [*args, "--metrics", "${outputs.metrics}"], source)
    return fill if fill.fields else None


def _fill_sql_ingest(filler: _Filler) -> StepFill | None:
    step, fill = filler.step, filler.fill
    src = getattr(step, "source", None)
    if (
        src is None
        or src.type != "sql"
        or src.query is None
        or src.connection is None
        or step.command is not None
        or step.script is not None
    ):
        return None
    outputs = [n for n, t in effective_outputs(step).items() if t == "dataset"]
    if len(outputs) != 1:
        return None
    source = f"catalog:ingest_sql@{filler.catalog.version}"
    args = ["--query", src.query, "--out", "${outputs." + outputs[0] + "}"]
    params = set((filler.vspec.loaded.data.get("params") or {}).keys())
    for name in sorted(set(re.findall(r"(?<!:):([A-Za-z_][A-Za-z0-9_]*)", src.query))):
        if name not in params:
            return None  # reported by the caller as still incomplete
        args += ["--param", f"{name}=${{params.{name}}}"]
    filler.put("script", "pipespec:ingest_sql", source)
    filler.put("args", args, source)
    secrets = dict(step.secrets or {})
    if "PIPESPEC_DATABASE_URL" not in secrets:
        secrets["PIPESPEC_DATABASE_URL"] = src.connection
        fill.fields["secrets"] = secrets
        fill.provenance["secrets.PIPESPEC_DATABASE_URL"] = source
    return fill
