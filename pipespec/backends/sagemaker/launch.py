"""How a SageMaker job starts a step's command: directly, or through pipespec's launcher.

SageMaker bounds a container's entrypoint and each argument to 256 characters and passes
files, not values. The command runs as written when it fits and needs nothing at start;
otherwise it runs through the launcher (``launcher_program.py``, a fixed program uploaded
with the code), which reads a plan, ``launch.json``, uploaded beside it:

* ``argv`` and ``env``: each value a list of segments: ``{"text": ...}``, ``{"env": NAME}``
  (a pipeline parameter, passed in the job's Environment as ``Get``), ``{"file": PATH}``
  (a value another step reported, read from its JSON file) or ``{"files": [...]}`` (the
  values of an unrolled foreach step, as one JSON list);
* ``secrets``: env name -> Secrets Manager ARN, read with boto3 with the job's role;
* ``unpack``: folders whose ``model.tar.gz`` (a training job's model) is extracted first.

The plan is data, written by pipespec; nothing of the spec becomes code. The launcher needs
``python3`` in the image (and boto3 for secrets): a step that needs it in an image without
them fails at start, with the launcher's message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipespec import ir
from pipespec.backends.placeholders import Resolver, walk
from pipespec.backends.sagemaker.context import Context, script_file
from pipespec.backends.sagemaker.launcher_program import LAUNCHER
from pipespec.backends.sagemaker.parameters import join

MAX_ARG = 256  # CreateProcessingJob/CreateTrainingJob: each entrypoint item and argument
PARAM_ENV = "PIPESPEC_PARAM_"
VALUE_ENV = "PIPESPEC_VALUE_"
LAUNCHER_FILE = "pipespec_launch.py"
PLAN = "launch.json"


# The packages come from pipespec's catalog, never from a spec; they are word-split on
# purpose: one requirement per word.
REQUIREMENTS_RUNNER = (
    "python3 -m pip install --quiet --no-input --disable-pip-version-check "
    '$PIPESPEC_REQUIREMENTS && exec "$@"'
)


def catalog_packages(step: ir.Step, image: Any) -> list[str]:
    """Packages the catalog's image lacks for the step's framework (its own image: none)."""
    if image != step.target_images.get("sagemaker"):
        return []
    return [str(p) for p in ir.thaw(step.target_requirements.get("sagemaker") or [])]


def with_requirements(
    step: ir.Step, image: Any, entry: list[Any], environment: dict[str, Any]
) -> list[Any]:
    """The entrypoint, after installing the packages the catalog's image lacks for the
    step's framework (LightGBM on the scikit-learn image); a step's own image: as it is."""
    packages = catalog_packages(step, image)
    if not packages:
        return entry
    environment["PIPESPEC_REQUIREMENTS"] = " ".join(packages)
    return ["/bin/sh", "-c", REQUIREMENTS_RUNNER, "pipespec", *entry]


@dataclass(frozen=True)
class ValueFile:
    """``${inputs.x}`` of a value: the JSON file(s) the launcher reads."""

    paths: tuple[str, ...]
    fan_in: bool = False


@dataclass
class Launch:
    """What one step's start needs, gathered while its inputs are built."""

    unpack: list[str] = field(default_factory=list)

    def start(
        self, ctx: Context, step: ir.Step, resolver: Resolver[Any], image: Any, code_dir: str
    ) -> tuple[list[Any], list[Any], dict[str, Any], dict[str, str]]:
        """(entrypoint, arguments, Environment, code files) of the step's container, its
        code folder mounted at ``code_dir``: the command (or ``python3`` and the script),
        through the launcher when needed, after the catalog's missing packages."""
        values = step.args if step.script is not None else step.command
        argv = [walk(step, value, resolver) for value in values]
        code: dict[str, str] = {}
        if step.script is not None:
            file = script_file(step.script.name)
            code[file] = step.script.source
            argv[:0] = [["python3"], [f"{code_dir}/{file}"]]
        env = {name: walk(step, value, resolver) for name, value in step.env}
        entry, arguments, environment, extra = self.command(ctx, step, argv, env, code_dir)
        code.update(extra)
        return with_requirements(step, image, entry, environment), arguments, environment, code

    def command(
        self,
        ctx: Context,
        step: ir.Step,
        argv: list[list[Any]],
        env: dict[str, list[Any]],
        code_dir: str,
    ) -> tuple[list[Any], list[Any], dict[str, Any], dict[str, str]]:
        """(entrypoint, arguments, Environment, files for the step's code folder), the
        folder being mounted at ``code_dir``."""
        secrets = secret_arns(ctx, step)
        values = any(isinstance(s, ValueFile) for v in [*argv, *env.values()] for s in v)
        direct_argv = [join(v) for v in argv]
        direct_env = {k: join(v) for k, v in env.items()}
        long = any(isinstance(a, str) and len(a) > MAX_ARG for a in direct_argv)
        if not (secrets or values or self.unpack or long):
            return direct_argv[:1], direct_argv[1:], direct_env, {}
        environment: dict[str, Any] = {}
        plan = {
            "argv": [_segments(v, environment) for v in argv],
            "env": {k: _segments(v, environment) for k, v in sorted(env.items())},
            "secrets": secrets,
            "unpack": self.unpack,
        }
        files = {PLAN: json.dumps(plan, sort_keys=True, indent=1) + "\n", LAUNCHER_FILE: LAUNCHER}
        entry = ["python3", f"{code_dir}/{LAUNCHER_FILE}"]
        return entry, [f"{code_dir}/{PLAN}"], environment, files


def _segments(value: list[Any], environment: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for seg in value:
        if isinstance(seg, str):
            found.append({"text": seg})
        elif isinstance(seg, ValueFile):
            found.append({"files": list(seg.paths)} if seg.fan_in else {"file": seg.paths[0]})
        else:  # a reference SageMaker resolves: it reaches the job by its environment
            where = str(seg.get("Get", ""))
            if where.startswith("Parameters."):
                name = PARAM_ENV + where.removeprefix("Parameters.")
            else:
                name = f"{VALUE_ENV}{sum(n.startswith(VALUE_ENV) for n in environment)}"
            environment[name] = join([seg])
            found.append({"env": name})
    return found


def secret_arns(ctx: Context, step: ir.Step) -> dict[str, str]:
    """Env name -> the Secrets Manager ARN of each secret the step uses."""
    by_name = {s.name: s for s in ctx.pipeline.secrets}
    found: dict[str, str] = {}
    for use in step.secrets:
        aws = by_name[use.secret].platforms.get("aws") or {}
        arn = aws.get("secret_arn")
        if not isinstance(arn, str):
            ctx.error(step, f"secret '{use.secret}' has no `aws: {{secret_arn: ...}}` mapping")
            continue
        found[use.env] = arn
    return found
