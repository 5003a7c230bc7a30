"""Scripts that travel with steps: pipespec's standard ones and files beside the spec."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

# pipespec:<name> -> file in pipespec/fill/catalog/scripts/
STANDARD_SCRIPTS = {
    "train": "train.py",
    "evaluate": "evaluate.py",
    "batch_predict": "batch_predict.py",
    "ingest_sql": "ingest_sql.py",
    "register": "register.py",
    "drift": "drift.py",
}
# pipespec's inference handler, beside the standard scripts; no step runs it (a serving
# image imports it), so it is not one of them.
SERVING_HANDLER = "serve"


@dataclass(frozen=True)
class Script:
    name: str  # as written: pipespec:train or scripts/clean.py
    source: str
    sha256: str

    @property
    def filename(self) -> str:
        """A file name for targets that ship scripts as files."""
        return (
            self.name.removeprefix("pipespec:") + ".py"
            if self.name.startswith("pipespec:")
            else Path(self.name).name
        )


@cache
def standard_script(name: str) -> Script:
    """``pipespec:<name>``: a standard script, or the inference handler (``serve``)."""
    filename = f"{name}.py" if name == SERVING_HANDLER else STANDARD_SCRIPTS[name]
    text = (
        resources.files("pipespec.fill.catalog")
        .joinpath("scripts")
        .joinpath(filename)
        .read_text(encoding="utf-8")
    )
    return Script(f"pipespec:{name}", text, sha256_text(text))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_script(spec_file: str, name: str) -> Script:
    """The script a step names; raises OSError/KeyError when it cannot be read."""
    if name.startswith("pipespec:"):
        return standard_script(name.removeprefix("pipespec:"))
    text = (Path(spec_file).parent / name).read_text(encoding="utf-8")
    return Script(name, text, sha256_text(text))
