"""The GCPC package data the Vertex backend reads is what the pinned GCPC compiles to.

``pipespec/backends/vertex/gcpc_components.json`` is regenerated in the ``kfp`` conformance
venv (google-cloud-pipeline-components 2.22.0, ``locks/kfp.txt``) by ``gcpc_snapshot.py`` and
must equal the committed file byte for byte.
"""

from __future__ import annotations

import json

import pytest

from tests.conformance.kfp_runner import ROOT, run_module

pytestmark = pytest.mark.conformance

SNAPSHOT = ROOT / "pipespec" / "backends" / "vertex" / "gcpc_components.json"
REGENERATE = (
    "regenerate it in the kfp venv (from the repository root): "
    "$(.venv/bin/python -m tests.conformance.venvs kfp | cut -d' ' -f2) "
    f"tests/conformance/gcpc_snapshot.py {SNAPSHOT.relative_to(ROOT)}"
)


def test_committed_snapshot_is_what_gcpc_compiles() -> None:
    fresh = run_module("tests.conformance.gcpc_snapshot", ["-"], timeout=300)
    committed = SNAPSHOT.read_text(encoding="utf-8") if SNAPSHOT.is_file() else ""
    if fresh != committed:
        drifted = sorted(
            name
            for name, entry in json.loads(fresh)["components"].items()
            if json.loads(committed or "{}").get("components", {}).get(name) != entry
        )
        pytest.fail(f"{SNAPSHOT.name} differs from GCPC's compilation {drifted}: {REGENERATE}")


def test_snapshot_names_the_pinned_versions() -> None:
    data = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert (data["gcpc_version"], data["kfp_version"]) == ("2.22.0", "2.17.0")
    for name, entry in data["components"].items():
        image = entry["container"]["image"]
        assert image == "gcr.io/ml-pipeline/google-cloud-pipeline-components:2.22.0", name
        assert entry["container"]["command"][:3] == ["python3", "-u", "-m"], name
