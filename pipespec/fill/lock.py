"""The lock file: what fill decided, pinned, so compiling is reproducible and offline.

One JSON file beside the spec (`pipeline.yaml` -> `pipeline.lock.json`), sorted and
indented so that it diffs well in review. Each filled step records the hash of everything
its fill depended on (its own spec text, `defaults:`, the catalog version, the prompt
version, and the facts it read from other steps); when that hash changes the entry is stale.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LOCK_VERSION = 1


@dataclass
class LockEntry:
    input_hash: str
    fields: dict[str, Any]  # step field -> value, merged over what the user wrote
    provenance: dict[str, str]  # field (or field.key) -> source
    target_images: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # script path -> sha256
    model: str | None = None  # the LLM that answered, when one did
    prompt_version: str | None = None
    # An LLM-written script's trial run: {"ran": true, "rows", "inputs", "outputs"} (the
    # columns it ran on and wrote) or {"ran": false, "reason"}. A record, not a pin.
    trial: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "input_hash": self.input_hash,
            "fields": self.fields,
            "provenance": self.provenance,
        }
        if self.target_images:
            out["target_images"] = self.target_images
        if self.files:
            out["files"] = self.files
        if self.model is not None:
            out["model"] = self.model
        if self.prompt_version is not None:
            out["prompt_version"] = self.prompt_version
        if self.trial is not None:
            out["trial"] = self.trial
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LockEntry:
        return cls(
            input_hash=str(data["input_hash"]),
            fields=dict(data["fields"]),
            provenance={str(k): str(v) for k, v in data["provenance"].items()},
            target_images={str(k): str(v) for k, v in data.get("target_images", {}).items()},
            files={str(k): str(v) for k, v in data.get("files", {}).items()},
            model=data.get("model"),
            prompt_version=data.get("prompt_version"),
            trial=dict(data["trial"]) if data.get("trial") is not None else None,
        )


@dataclass
class Lock:
    spec: str  # the spec's file name, for people reading the lock
    catalog_version: str
    steps: dict[str, LockEntry] = field(default_factory=dict)

    def render(self) -> str:
        doc = {
            "lock_version": LOCK_VERSION,
            "spec": self.spec,
            "catalog_version": self.catalog_version,
            "steps": {sid: self.steps[sid].to_json() for sid in sorted(self.steps)},
        }
        return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class LockError(ValueError):
    pass


def lock_path(spec_file: str | Path) -> Path:
    path = Path(spec_file)
    return path.with_name(path.stem + ".lock.json")


def read_lock(spec_file: str | Path) -> Lock | None:
    """The lock beside the spec, None when there is none; LockError when it is unreadable."""
    path = lock_path(spec_file)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("lock_version") != LOCK_VERSION:
            raise LockError(f"lock_version {data.get('lock_version')!r} is not {LOCK_VERSION}")
        return Lock(
            spec=str(data["spec"]),
            catalog_version=str(data["catalog_version"]),
            steps={str(k): LockEntry.from_json(v) for k, v in data["steps"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise LockError(f"{path.as_posix()}: {exc}") from None


def pin_problem(sid: str, entry: LockEntry) -> str | None:
    """Why the entry's pins do not match the scripts it makes its step run (None: they do).

    Every script file the entry sets must carry its sha256 in `files`, and `files` holds
    nothing else: deleting a pin must not silence it, and a stray pin names a file nobody runs.
    """
    script = entry.fields.get("script")
    runs = {script} if isinstance(script, str) and not script.startswith("pipespec:") else set()
    missing = sorted(runs - set(entry.files))
    stray = sorted(set(entry.files) - runs)
    if missing:
        return f"the lock entry for step '{sid}' does not pin {', '.join(missing)} (no sha256)"
    if stray:
        return f"the lock entry for step '{sid}' pins {', '.join(stray)}, which it does not run"
    return None


def entry_position(spec_file: str | Path, sid: str) -> tuple[int, int]:
    """(line, column) of a step's entry in the lock file; (1, 1) when it cannot be found."""
    try:
        lines = lock_path(spec_file).read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError):
        return 1, 1
    key = json.dumps(sid, ensure_ascii=False) + ":"
    for number, line in enumerate(lines, start=1):
        if line.lstrip().startswith(key) and line.rstrip().endswith("{"):
            return number, len(line) - len(line.lstrip()) + 1
    return 1, 1


def input_hash(parts: dict[str, Any]) -> str:
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
