"""A step's container as Vertex AI runs it, in a pipeline task or a training job: the
catalog's Vertex image for a standard script (with the packages it lacks installed
first), and secrets read from Secret Manager when the step starts."""

from __future__ import annotations

import re
from typing import Any

from pipespec import ir
from pipespec.backends.kfp_ir.state import Build
from pipespec.backends.vertex.programs import REQUIREMENTS_RUNNER, SECRET_RUNNER

# A Secret Manager secret version; stricter than the spec's pattern, because the reference
# becomes part of an API URL when the step starts.
SECRET_RE = re.compile(
    r"^projects/([a-z][a-z0-9-]{0,29}|[0-9]{1,20})/secrets/[A-Za-z0-9_-]{1,255}"
    r"(/versions/(latest|[0-9]{1,20}))?$"
)


def runs_catalog_image(step: ir.Step) -> bool:
    """A standard script with a Vertex image from the catalog: it runs there (a Vertex
    prebuilt container, made for Vertex) instead of the Kubernetes image."""
    return (
        step.script is not None
        and step.script.name.startswith("pipespec:")
        and "vertex" in step.target_images
    )


def vertex_image(step: ir.Step) -> str:
    if runs_catalog_image(step):
        return str(step.target_images["vertex"])
    assert step.image is not None
    return step.image


def _secret_pairs(build: Build, step: ir.Step) -> list[str]:
    refs = {s.name: s for s in build.pipeline.secrets}
    pairs: list[str] = []
    for use in step.secrets:
        gcp = refs[use.secret].platforms.get("gcp")
        if gcp is None:
            build.error(
                step,
                f"step '{step.id}' uses secret '{use.secret}', which has no `gcp:` mapping: "
                "Vertex AI reads secrets from Secret Manager",
                f"add `gcp: {{secret: projects/PROJECT/secrets/NAME}}` to secrets.{use.secret}",
            )
            continue
        name = str(gcp["secret"])
        if not SECRET_RE.match(name):
            build.error(
                step,
                f"secret '{use.secret}': {name!r} is not a Secret Manager secret name",
                "write projects/PROJECT/secrets/NAME[/versions/VERSION]",
            )
            continue
        if "/versions/" not in name:
            name += "/versions/latest"
        pairs.append(f"{use.env}={name}")
    return pairs


def vertex_container(build: Build, step: ir.Step, container: dict[str, Any]) -> None:
    """Changes the step's container in place for Vertex: its image, and the fixed
    programs put before its command (the command and args themselves are unchanged)."""
    container["image"] = vertex_image(step)
    command: list[str] = list(container["command"])
    needed = step.target_requirements.get("vertex") if runs_catalog_image(step) else None
    if needed:
        env = [
            *container.get("env", []),
            {"name": "PIPESPEC_REQUIREMENTS", "value": " ".join(needed)},
        ]
        container["env"] = env
        command = ["sh", "-c", REQUIREMENTS_RUNNER, "pipespec-requirements", *command]
    pairs = _secret_pairs(build, step)
    if pairs:
        command = ["python3", "-c", SECRET_RUNNER, *pairs, "--", *command]
    container["command"] = command
