"""``<name>.upsert.json``: what creating (or updating) the pipeline in an account needs,
as data that boto3 reads directly, and the code files it uploads, written beside it.

- ``region``: where the pipeline, its jobs and its schedule live;
- ``pipeline``: the parameters of ``CreatePipeline`` except the definition, which is the
  file ``PipelineDefinitionFile`` names (beside this one), or, over the API's inline
  limit, ``PipelineDefinitionS3Location`` (the file is then one of the uploads):
  ``PipelineName``, ``RoleArn``, ``PipelineDescription``, ``Tags``. ``UpdatePipeline``
  takes the same without ``Tags``;
- ``uploads``: by S3 URI, the files the pipeline's jobs read (scripts, pipespec's launcher,
  its plans): ``{"s3_uri", "file", "sha256"}``, ``file`` relative to this file; or, for a
  tuning job's ``sourcedir.tar.gz``, ``{"s3_uri", "tar_gz": [{"name", "file", "sha256"}]}``:
  the archive's members, to pack as ``name``;
- ``schedule``: EventBridge Scheduler's ``CreateSchedule`` parameters (``schedule.py``),
  or null;

docs/targets/sagemaker.md shows the boto3 lines that do it. Data only: nothing of the spec
becomes code.

Code files are written in the folder of the pipeline's files (``sagemaker/<name>/``, as
every file of one pipeline for one target starts with it), in a folder named after the
entry that reads them: ``<name>/code/<entry>/<file>`` relative to the upsert file, a
tarball's members at ``<name>/code/<entry>/sourcedir/<member name>``. Their S3 keys are
content-keyed (``<prefix>/code/<sha256>/``, see ``Context.code_folder``); the local names
are not, so a changed script replaces its file instead of leaving the old one behind.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pipespec.backends.sagemaker.context import Context
from pipespec.backends.sagemaker.schedule import create_schedule

MAX_DESCRIPTION = 3072  # CreatePipeline's PipelineDescription
# CreatePipeline's inline PipelineDefinition (botocore's model); a larger definition goes to
# S3 first, as the sagemaker SDK's upsert does (it switches at 100 KiB).
MAX_INLINE_DEFINITION = 1_048_576
# A tuning job's source_dir: its ctx.uploads value is the JSON of {member name: text}.
TARBALL = "sourcedir.tar.gz"
_SAFE_PART = re.compile(r"^[A-Za-z0-9_.+=@-]+$")


class UnsafeUpload(ValueError):
    """An upload whose S3 key (or tarball member) cannot be a file below the output folder."""


def description(text: str | None) -> str | None:
    """The spec's description as ``PipelineDescription``: one line (the API's pattern is
    ``.*``, which a line break may not match), at most 3072 characters."""
    if not text:
        return None
    line = " ".join(text.split())
    if len(line) > MAX_DESCRIPTION:
        line = line[: MAX_DESCRIPTION - 1] + "…"
    return line


def pipeline_params(ctx: Context, definition_file: str, definition: str = "") -> dict[str, Any]:
    """``CreatePipeline``'s parameters, the definition named by its file; a definition
    over the inline limit is read from S3 (``PipelineDefinitionS3Location``, as the SDK's
    upsert does), where the manifest uploads it."""
    params: dict[str, Any] = {"PipelineName": ctx.pipeline.name, "RoleArn": ctx.role_arn}
    if len(definition) > MAX_INLINE_DEFINITION:
        key = f"{ctx.prefix}/definitions/{ctx.pipeline.name}/{_sha256(definition)}.json"
        params["PipelineDefinitionS3Location"] = {"Bucket": ctx.bucket, "ObjectKey": key}
    else:
        params["PipelineDefinitionFile"] = definition_file
    about = description(ctx.pipeline.description)
    if about:
        params["PipelineDescription"] = about
    if ctx.options.tags:
        params["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(ctx.options.tags.items())]
    return params


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _local(path: str, what: str) -> str:
    """``path`` if it is a plain relative path (no ``..``, no odd characters)."""
    parts = path.split("/")
    if not all(_SAFE_PART.match(p) and p not in (".", "..") for p in parts):
        raise UnsafeUpload(f"{what} {path!r} cannot be a file name")
    return path


def _key_path(ctx: Context, uri: str) -> str:
    """The upload's file, relative to the upsert file: in the pipeline's folder, under
    ``code/<its reader>/`` for a code folder, else at its key below the prefix."""
    bucket_key = uri.removeprefix("s3://")
    key = bucket_key.partition("/")[2]
    if not uri.startswith("s3://") or not key:
        raise UnsafeUpload(f"upload {uri!r} is not an s3:// URI with a key")
    folder, _, file = uri.rpartition("/")
    if folder in ctx.local_names:
        local = f"code/{ctx.local_names[folder]}/{file}"
        return f"{ctx.pipeline.name}/{_local(local, 'upload')}"
    prefix = ctx.prefix.strip("/")
    if prefix and key.startswith(prefix + "/"):
        key = key[len(prefix) + 1 :]
    return f"{ctx.pipeline.name}/{_local(key, 'upload')}"


def _tarball(uri: str, where: str, text: str) -> tuple[dict[str, Any], dict[str, str]]:
    try:
        members = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnsafeUpload(f"{uri}: a tarball's upload is the JSON of its members") from exc
    if not isinstance(members, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in members.items()
    ):
        raise UnsafeUpload(f"{uri}: a tarball's members are {{name: text}}")
    folder = where.removesuffix(".tar.gz")
    files: dict[str, str] = {}
    listed = []
    for name in sorted(members):
        file = f"{folder}/{_local(name, 'tarball member')}"
        files[file] = members[name]
        listed.append({"name": name, "file": file, "sha256": _sha256(members[name])})
    return {"s3_uri": uri, "tar_gz": listed}, files


def uploads(ctx: Context) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The manifest (sorted by S3 URI) and the files to write, relative path -> text."""
    manifest: list[dict[str, Any]] = []
    files: dict[str, str] = {}
    for uri in sorted(ctx.uploads):
        text = ctx.uploads[uri]
        where = _key_path(ctx, uri)
        if where.rsplit("/", 1)[-1] == TARBALL:
            entry, members = _tarball(uri, where, text)
        else:
            entry, members = {"s3_uri": uri, "file": where, "sha256": _sha256(text)}, {where: text}
        clash = members.keys() & files.keys()
        if clash:
            raise UnsafeUpload(f"two uploads would both be written to {sorted(clash)[0]!r}")
        manifest.append(entry)
        files.update(members)
    return manifest, files


def upsert_document(
    ctx: Context, definition_file: str, definition: str = ""
) -> tuple[dict[str, Any], dict[str, str]]:
    """The upsert document and the code files to write beside it (path relative to it ->
    text). Raises ``schedule.UnsupportedSchedule`` for a schedule EventBridge cannot run
    and :class:`UnsafeUpload` for an upload that cannot be a file (both PS600)."""
    manifest, files = uploads(ctx)
    params = pipeline_params(ctx, definition_file, definition)
    where = params.get("PipelineDefinitionS3Location")
    if where is not None:  # the definition itself is uploaded, from its file beside this
        uri = f"s3://{where['Bucket']}/{where['ObjectKey']}"
        entry = {"s3_uri": uri, "file": definition_file, "sha256": _sha256(definition)}
        manifest = sorted([*manifest, entry], key=lambda e: str(e["s3_uri"]))
    schedule = None
    if ctx.pipeline.schedule is not None:
        scheduler_role = ctx.options.scheduler_role_arn or ctx.role_arn
        schedule = create_schedule(ctx.pipeline, ctx.region, ctx.role_arn, scheduler_role)
    document = {
        "generated_by": "pipespec: do not edit",
        "pipeline": params,
        "region": ctx.region,
        "schedule": schedule,
        "uploads": manifest,
    }
    return document, files


def upsert_text(
    ctx: Context, definition_file: str, definition: str = ""
) -> tuple[str, dict[str, str]]:
    """:func:`upsert_document` as the file's text (sorted keys, indent 2) and the files."""
    document, files = upsert_document(ctx, definition_file, definition)
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n", files
