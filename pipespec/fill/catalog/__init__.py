"""The built-in catalog: images, hyperparameters, search spaces and metrics per framework/task.

The data is `catalog.json` beside this module (package data, deterministic, versioned by its
`version`); the standard scripts it names live in `scripts/`. `load_catalog()` reads it once.

Images per target:

- `kubernetes`: a public image for Airflow (KubernetesPodOperator) and Kubeflow steps;
- `vertex`: Vertex AI prebuilt containers (None where Vertex has none: see `notes`);
- `sagemaker`: built per region as `<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>`.

Roles are `train` and `predict` (`inference` is a synonym); `gpu=True` picks the CUDA image
where the target has a separate one.

`vertex_images` is what Vertex's support tables say of each Vertex image the catalog names:
the framework version it carries and its end of patches and support and end of availability
(None where the publisher gives no date). A Vertex AI image is the same in every region, so
a lookup takes any of the `us-`, `europe-` and `asia-docker.pkg.dev` names of it.
"""

from __future__ import annotations

import copy
import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any, Literal, TypeAlias, TypedDict

__all__ = [
    "ROLES",
    "TARGETS",
    "Catalog",
    "CatalogError",
    "Objective",
    "Scalar",
    "SearchDimension",
    "VertexImage",
    "load_catalog",
]

Scalar: TypeAlias = str | int | float | bool
TARGETS = ("kubernetes", "vertex", "sagemaker")
ROLES = ("train", "predict", "inference")
_SAGEMAKER_ROLE = {"train": "train", "predict": "inference", "inference": "inference"}
_OTHER_ROLE = {"train": "train", "predict": "predict", "inference": "predict"}


class SearchDimension(TypedDict, total=False):
    type: Literal["float", "int", "categorical"]
    min: float
    max: float
    scale: Literal["linear", "log"]
    values: list[Scalar]


class VertexImage(TypedDict):
    """One row of `vertex_images`: dates are ISO strings, or None where none is published."""

    framework: str
    version: str  # the framework's minor version, "2.1"
    role: Literal["train", "predict"]
    accelerator: Literal["cpu", "gpu"]
    python: str | None
    end_of_support: str | None  # last day of patches and support
    end_of_availability: str | None  # after it Vertex may refuse new jobs and models using it
    source: str  # a key of `sources`


# Vertex AI's own images are mirrored per multi-region under the same path: one key for all.
_VERTEX_REGION = re.compile(r"^(?:us|europe|asia)-docker\.pkg\.dev/vertex-ai/")


class Objective(TypedDict):
    metric: str
    goal: Literal["maximize", "minimize"]


class CatalogError(KeyError):
    """Something the catalog does not have (a KeyError whose str() is the message)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class Catalog:
    """Typed, read-only access to the catalog data; results are copies the caller may change."""

    def __init__(self, data: Mapping[str, Any], scripts: Mapping[str, str]) -> None:
        self._data = data
        self._scripts = scripts
        self.version: str = str(data["version"])

    # --- frameworks -------------------------------------------------------------------

    def frameworks(self) -> list[str]:
        return sorted(self._data["frameworks"])

    def tasks(self, framework: str | None = None) -> list[str]:
        """Every task, or the tasks the catalog has defaults for with this framework."""
        if framework is None:
            return sorted(self._data["tasks"])
        return list(self._framework(framework)["tasks"])

    def has_standard_scripts(self, framework: str) -> bool:
        return bool(self._framework(framework)["standard_scripts"])

    def hyperparameters(self, framework: str, task: str) -> dict[str, Scalar]:
        return dict(self._for_task(framework, task, "hyperparameters"))

    def hyperparameter_aliases(self, framework: str) -> dict[str, str]:
        """Native parameter name -> the name the standard scripts' estimator takes."""
        return dict(self._framework(framework)["hyperparameter_aliases"])

    def search_space(self, framework: str, task: str) -> dict[str, SearchDimension]:
        space: dict[str, SearchDimension] = copy.deepcopy(
            self._for_task(framework, task, "search_space")
        )
        return space

    # --- images -----------------------------------------------------------------------

    def image(
        self,
        framework: str,
        target: str,
        role: str = "train",
        region: str | None = None,
        *,
        gpu: bool = False,
    ) -> str | None:
        """The image reference, or None when the target has no prebuilt image for this role.

        SageMaker images need `region`; an unknown framework, target, role or region raises
        CatalogError (a KeyError).
        """
        entry = self._target(framework, target)
        if role not in ROLES:
            raise CatalogError(f"unknown image role {role!r}; choose one of {', '.join(ROLES)}")
        key = (_SAGEMAKER_ROLE if target == "sagemaker" else _OTHER_ROLE)[role]
        value = entry.get(f"{key}_gpu") if gpu else None
        if value is None:
            value = entry.get(key)
        if value is None:
            return None
        if target != "sagemaker":
            return str(value)
        if region is None:
            raise CatalogError(
                f"the SageMaker image for {framework} depends on the AWS region; pass region="
            )
        accounts: dict[str, str] = value["accounts"]
        if region not in accounts:
            raise CatalogError(
                f"no SageMaker {value['repository']} image for {framework} in region "
                f"{region!r}; known regions: {', '.join(sorted(accounts))}"
            )
        return (
            f"{accounts[region]}.dkr.ecr.{region}.amazonaws.com/"
            f"{value['repository']}:{value['tag']}"
        )

    def sagemaker_mode(self, framework: str, role: str = "train") -> str | None:
        """The SageMaker mode: `framework` (script mode, the step's script runs in the image)
        or `builtin` (a built-in algorithm); None when there is no image for the role."""
        value = self._target(framework, "sagemaker").get(_SAGEMAKER_ROLE.get(role, role))
        return None if value is None else str(value["mode"])

    def requirements(self, framework: str, target: str) -> list[str]:
        """Packages to pip-install on top of the target's image (empty when it has them)."""
        return list(self._target(framework, target)["requirements"])

    def notes(self, framework: str, target: str) -> str:
        """What the target's images contain, and what is missing."""
        return str(self._target(framework, target)["notes"])

    # --- image support dates ------------------------------------------------------------

    def vertex_images(self) -> list[str]:
        """Every image `vertex_images` has dates for (the us-docker name of Vertex's own)."""
        return sorted(self._data["vertex_images"])

    def vertex_image(self, image: str) -> VertexImage | None:
        """What the support tables say of ``image``, or None when the catalog does not know it."""
        key = _VERTEX_REGION.sub("us-docker.pkg.dev/vertex-ai/", image, count=1)
        row: VertexImage | None = self._data["vertex_images"].get(key)
        return None if row is None else VertexImage(**row)

    def image_end_of_support(self, image: str) -> datetime.date | None:
        """The last day ``image`` gets patches and support; None when unknown or unpublished."""
        row = self.vertex_image(image)
        return _date(row["end_of_support"]) if row else None

    def image_end_of_availability(self, image: str) -> datetime.date | None:
        row = self.vertex_image(image)
        return _date(row["end_of_availability"]) if row else None

    def newer_image(self, image: str) -> str | None:
        """The newest known image for the same framework, role and accelerator whose support
        ends later than ``image``'s (or has no published end); None when there is none."""
        row = self.vertex_image(image)
        if row is None:
            return None
        ends = _date(row["end_of_support"]) or datetime.date.max
        candidates = [
            (_version(other["version"]), key)
            for key, other in self._data["vertex_images"].items()
            if all(other[k] == row[k] for k in ("framework", "role", "accelerator"))
            and _version(other["version"]) > _version(row["version"])
            and (_date(other["end_of_support"]) or datetime.date.max) > ends
        ]
        return max(candidates)[1] if candidates else None

    # --- tasks ------------------------------------------------------------------------

    def metrics(self, task: str) -> list[str]:
        """The metric names evaluate.py writes for this task."""
        return list(self._task(task)["metrics"])

    def objective(self, task: str) -> Objective:
        objective = self._task(task)["objective"]
        return {"metric": str(objective["metric"]), "goal": objective["goal"]}

    # --- standard scripts ---------------------------------------------------------------

    def scripts(self) -> list[str]:
        return sorted(self._scripts)

    def script_source(self, name: str) -> str:
        if name not in self._scripts:
            raise CatalogError(
                f"no standard script {name!r}; choose one of {', '.join(self.scripts())}"
            )
        return self._scripts[name]

    def script_sha256(self, name: str) -> str:
        return hashlib.sha256(self.script_source(name).encode("utf-8")).hexdigest()

    def metric_regex(self, metric: str) -> str:
        """A regex whose group 1 is the metric's value in the train script's log."""
        template = str(self._data["scripts"]["train"]["metric_regex"])
        return template.replace("{metric}", metric)

    # --- lookups ------------------------------------------------------------------------

    def _framework(self, framework: str) -> Mapping[str, Any]:
        try:
            entry: Mapping[str, Any] = self._data["frameworks"][framework]
        except KeyError:
            raise CatalogError(
                f"unknown framework {framework!r}; the catalog has {', '.join(self.frameworks())}"
            ) from None
        return entry

    def _task(self, task: str) -> Mapping[str, Any]:
        try:
            entry: Mapping[str, Any] = self._data["tasks"][task]
        except KeyError:
            raise CatalogError(
                f"unknown task {task!r}; the catalog has {', '.join(self.tasks())}"
            ) from None
        return entry

    def _target(self, framework: str, target: str) -> Mapping[str, Any]:
        images: Mapping[str, Any] = self._framework(framework)["images"]
        if target not in images:
            raise CatalogError(f"unknown target {target!r}; choose one of {', '.join(TARGETS)}")
        entry: Mapping[str, Any] = images[target]
        return entry

    def _for_task(self, framework: str, task: str, section: str) -> Any:
        self._task(task)
        values = self._framework(framework)[section]
        if task not in values:
            raise CatalogError(
                f"the catalog has no {section} for {framework} with {task}; it has them for "
                f"{', '.join(sorted(values))}"
            )
        return values[task]


def _date(text: str | None) -> datetime.date | None:
    return None if text is None else datetime.date.fromisoformat(text)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def _read(name: str) -> str:
    path = resources.files(__name__)
    for part in name.split("/"):
        path = path.joinpath(part)
    return path.read_text(encoding="utf-8")


@cache
def load_catalog() -> Catalog:
    """The built-in catalog (read once per process)."""
    data = json.loads(_read("catalog.json"))
    scripts = {name: _read(entry["file"]) for name, entry in data["scripts"].items()}
    return Catalog(data, scripts)
