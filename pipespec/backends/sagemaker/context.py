"""What building a SageMaker definition shares between steps: the options, the code files
to upload, diagnostics, and how a later step reaches each step's outputs.

A spec step becomes one or more definition entries (``deploy``: a model, an endpoint
config, an endpoint). Each builder registers, per output, a ``Ref``: the output's S3 URI
as SageMaker resolves it (a ``Get`` or ``Std:Join``) and, for a value output, the property
file that holds it. It also registers the entry that finishes the step (``exits``): what a
later step's ``DependsOn`` names. Builders run in the pipeline's topological order, so a
consumer always finds its producers' references.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from pipespec import ir
from pipespec.backends.sagemaker.options import SagemakerOptions
from pipespec.backends.sagemaker.parameters import get


@dataclass(frozen=True)
class Ref:
    """How a consumer reaches one output of a step."""

    uri: Any  # the S3 URI (text, or a Get/Std:Join SageMaker resolves at run time)
    # A value output: (entry name, property file name) that holds its JSON.
    property_file: tuple[str, str] | None = None
    # The folder holds ``model.tar.gz`` (a SageMaker training job's model), not the files.
    packed: bool = False


@dataclass
class Context:
    """What building one definition needs and collects."""

    pipeline: ir.Pipeline
    options: SagemakerOptions
    region: str
    role_arn: str
    bucket: str
    uploads: dict[str, str] = field(default_factory=dict)  # S3 URI -> code file's text
    errors: list[tuple[ir.Step, str]] = field(default_factory=list)
    warnings: list[tuple[ir.Step, str]] = field(default_factory=list)
    refs: dict[tuple[str, str], Ref] = field(default_factory=dict)
    # Spec step id -> the entries a later step waits for (several for an unrolled foreach).
    exits: dict[str, list[str]] = field(default_factory=dict)
    # An unrolled foreach step's id -> the ids of its copies, in item order.
    copies: dict[str, list[str]] = field(default_factory=dict)
    # A copy's id (an unrolled item, a one_of branch) -> the spec step it comes from.
    origin: dict[str, str] = field(default_factory=dict)
    # An upload folder's S3 URI -> the name of its local folder beside the definition.
    local_names: dict[str, str] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.options.prefix

    @property
    def instance_type(self) -> str:
        return self.options.instance_type

    def depends_on(self, step: ir.Step) -> list[str]:
        """The entries the step's dependencies finish with: what its first entry waits
        for. SageMaker infers an order from a ``Get`` too, but a dependency written out
        keeps the definition's graph the spec's DAG to a reader."""
        found: list[str] = []
        for dep in step.deps:
            for name in self.exits.get(dep.source, []):
                if name not in found:
                    found.append(name)
        return found

    def error(self, step: ir.Step, message: str) -> None:
        self.errors.append((step, message))

    def warn(self, step: ir.Step, message: str) -> None:
        self.warnings.append((step, message))

    def ref(self, step_id: str, output: str) -> Ref:
        """The producer's registered reference (a builder registers every output)."""
        return self.refs[(step_id, output)]

    def value(self, step_id: str, output: str, key: str | None) -> Any:
        """A step's value output (or one key of it) as ``Std:JsonGet`` on its property
        file: what a condition compares."""
        found = self.ref(step_id, output)
        if found.property_file is None and key is None and isinstance(found.uri, dict):
            return found.uri  # a value SageMaker resolves itself (a model package ARN)
        if found.property_file is None:
            raise KeyError(f"{step_id}.{output} is not a value SageMaker can read")
        if key is None:
            raise KeyError(f"{step_id}.{output} is read whole: JsonGet needs a key")
        entry, name = found.property_file
        path = key
        prop = get(f"Steps.{entry}.PropertyFiles.{name}")
        return {"Std:JsonGet": {"PropertyFile": prop, "Path": path}}

    def run_uri(self, step_id: str, output: str) -> Any:
        """Where a job writes an output: under the run's execution id, as the SDK's
        default output path is, so runs never overwrite each other."""
        from pipespec.backends.sagemaker.parameters import join

        where: list[Any] = [f"s3://{self.bucket}", self.prefix, self.pipeline.name]
        where += [get("Execution.PipelineExecutionId"), step_id, output]
        return join(where, "/")

    def code_folder(self, files: dict[str, str], owner: str) -> str:
        """The S3 folder of a step's code files, keyed by their names and content so an
        unchanged step keeps its key (SageMaker's step cache compares arguments):
        ``s3://<bucket>/<prefix>/code/<sha256>``. The files join the upload manifest,
        written beside the definition in a folder named after ``owner`` (the entry that
        first reads them), so a changed script replaces its file there."""
        digest = hashlib.sha256()
        for name in sorted(files):
            digest.update(f"{len(name)}:{name}{len(files[name])}:".encode())
            digest.update(files[name].encode("utf-8"))
        folder = f"s3://{self.bucket}/{self.prefix}/code/{digest.hexdigest()}"
        for name, text in files.items():
            self.uploads[f"{folder}/{name}"] = text
        self.own(folder, owner)
        return folder

    def own(self, folder: str, owner: str) -> None:
        """Name the local folder of an upload folder's files after its first reader."""
        if folder in self.local_names:
            return
        taken = set(self.local_names.values())
        name, n = owner, 1
        while name in taken:  # the same entry reads two folders (rare): number them
            n += 1
            name = f"{owner}-{n}"
        self.local_names[folder] = name


def script_file(name: str) -> str:
    """The file name a script has on S3 and in the job (``pipespec:train`` -> train.py)."""
    file = name.rsplit("/", 1)[-1].replace("pipespec:", "") or "step"
    return file if file.endswith(".py") else file + ".py"
