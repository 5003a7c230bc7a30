"""A third-party backend, installed through the ``pipespec.backends`` entry point, is a
target like the built-ins: it compiles, its ``targets.<name>`` block is validated by its
own options model, ``--target all`` includes it, the help and the portability report
(`explain --target`) name it, and its capability table is the one the portability check
reads.

The distribution is made by hand in a temporary folder (a package and its ``.dist-info``
with ``entry_points.txt``) and put on ``PYTHONPATH`` of a ``python -m pipespec``
subprocess: ``importlib.metadata`` finds a dist-info folder on ``sys.path`` as pip would
have installed it, without pip, the network or touching this venv.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

TINY_MODULE = '''\
"""tinyback: one text file per pipeline, listing its steps."""

from pipespec import ir
from pipespec.backends import RenderResult
from pipespec.backends.base import Backend, Capability, Options, Support
from pipespec.backends.layout import output_path


class TinyOptions(Options):
    greeting: str = "hello"


class TinyBackend(Backend):
    name = "tiny"
    options_model = TinyOptions
    capabilities = {
        ir.Feature.CONTAINER_STEP: Capability(Support.NATIVE, "one line per step"),
        ir.Feature.DATA_DEPENDENCY: Capability(Support.EMULATED, "named, never passed"),
    }

    def render(self, pipeline, options):
        assert isinstance(options, TinyOptions), type(options)
        lines = [f"{options.greeting} from {pipeline.name}"]
        lines += [f"step {step.id}" for step in pipeline.steps]
        path = output_path(self.name, pipeline.name, "txt")
        return RenderResult({path: "\\n".join(lines) + "\\n"})
'''

METADATA = "Metadata-Version: 2.1\nName: tinyback\nVersion: 0.1\n"
ENTRY_POINTS = "[pipespec.backends]\ntiny = tinyback:TinyBackend\n"

SPEC = """\
pipespec: 1
name: tiny-demo
steps:
  hello:
    kind: container
    image: busybox:1.36
    command: [echo, hi]
targets:
  tiny:
    {tiny_key}: bonjour
  sagemaker: {{role_arn: "arn:aws:iam::123456789012:role/pipelines", region: eu-west-1}}
"""
TINY_KEY_AT = "spec.yaml:10:5"  # where `{tiny_key}` starts

RETRYING_STEP = """\
  again:
    kind: container
    image: busybox:1.36
    command: [echo, again]
    retries: 2
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder holding the tinyback distribution, as pip would lay it out."""
    folder = tmp_path / "site"
    (folder / "tinyback").mkdir(parents=True)
    (folder / "tinyback" / "__init__.py").write_text(TINY_MODULE)
    info = folder / "tinyback-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(METADATA)
    (info / "entry_points.txt").write_text(ENTRY_POINTS)
    return folder


@pytest.fixture
def project(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "spec.yaml").write_text(SPEC.format(tiny_key="greeting"))
    return folder


def pipespec(cwd: Path, *args: str, site: Path | None = None) -> subprocess.CompletedProcess[str]:
    # pipespec itself comes from this venv; only the plugin is added.
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "CI")}
    if site is not None:
        env["PYTHONPATH"] = str(site)
    return subprocess.run(
        [sys.executable, "-m", "pipespec", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_plugin_compiles_with_its_own_options(site: Path, project: Path) -> None:
    proc = pipespec(project, "compile", "spec.yaml", "--target", "tiny", site=site)
    assert proc.returncode == 0, proc.stderr
    written = project / "generated" / "tiny" / "tiny-demo.txt"
    # The options reached render validated and typed: the greeting is the spec's.
    assert written.read_text() == "bonjour from tiny-demo\nstep hello\n"
    assert sorted(p.name for p in (project / "generated").iterdir()) == ["tiny"]


def test_without_the_distribution_the_target_is_unknown(project: Path) -> None:
    """The control: it is the entry point that makes `tiny` a target."""
    proc = pipespec(project, "compile", "spec.yaml", "--target", "tiny")
    assert proc.returncode == 2
    assert "unknown target 'tiny'" in proc.stderr


def test_a_bad_key_under_the_plugin_target_is_a_diagnostic(site: Path, project: Path) -> None:
    (project / "spec.yaml").write_text(SPEC.format(tiny_key="greting"))
    proc = pipespec(project, "compile", "spec.yaml", "--target", "tiny", site=site)
    assert proc.returncode == 1, proc.stderr
    assert f"{TINY_KEY_AT}: error[PS200]" in proc.stderr
    assert "did you mean 'greeting'?" in proc.stderr
    assert "Traceback" not in proc.stderr and "PS900" not in proc.stderr
    assert not (project / "generated").exists()


def test_target_all_includes_the_plugin(site: Path, project: Path) -> None:
    proc = pipespec(project, "compile", "spec.yaml", "--target", "all", site=site)
    assert proc.returncode == 0, proc.stderr
    generated = project / "generated"
    assert (generated / "tiny" / "tiny-demo.txt").is_file()
    assert (generated / "airflow" / "tiny-demo.py").is_file()


def test_help_lists_the_plugin(site: Path, project: Path) -> None:
    proc = pipespec(project, "--help", site=site)
    assert proc.returncode == 0, proc.stderr
    targets_line = next(line for line in proc.stdout.splitlines() if "Targets:" in line)
    assert "tiny" in targets_line and "airflow" in targets_line


def test_explain_reports_the_plugin_capabilities(site: Path, project: Path) -> None:
    proc = pipespec(
        project, "explain", "spec.yaml", "--target", "tiny", "--format", "json", site=site
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["target"] == "tiny"
    rows = {row["feature"]: row for row in report["features"]}
    assert rows["container_step"]["support"] == "native"
    assert rows["container_step"]["how"] == "one line per step"  # the plugin's own words
    assert rows["container_step"]["steps"] == ["hello"]


def test_what_the_plugin_cannot_express_is_an_error(site: Path, project: Path) -> None:
    """Its capability table is the one consulted: retries are not in it."""
    spec = project / "spec.yaml"
    spec.write_text(spec.read_text().replace("targets:\n", RETRYING_STEP + "targets:\n"))
    proc = pipespec(project, "compile", "spec.yaml", "--target", "tiny", site=site)
    assert proc.returncode == 1, proc.stderr
    assert "spec.yaml:8:3: error[PS605]: step 'again' uses retries" in proc.stderr
    assert "which tiny cannot express" in proc.stderr
    assert not (project / "generated").exists()
    proc = pipespec(project, "compile", "spec.yaml", "--target", "airflow", site=site)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize(
    ("module", "why"),
    [
        ("raise ImportError('no module named tinydep')\n", "ImportError: no module named tinydep"),
        ("class TinyBackend:\n    name = 'tiny'\n", "is not a pipespec.backends.base.Backend"),
    ],
    ids=["import-fails", "not-a-backend"],
)
def test_a_broken_plugin_is_a_diagnostic_that_names_it(
    site: Path, project: Path, module: str, why: str
) -> None:
    (site / "tinyback" / "__init__.py").write_text(module)
    for args in (("validate", "spec.yaml"), ("compile", "spec.yaml", "--target", "tiny")):
        proc = pipespec(project, *args, site=site)
        assert proc.returncode == 1, proc.stderr
        assert "error[PS609]: target 'tiny' (tinyback:TinyBackend)" in proc.stderr
        assert why in proc.stderr and "PS900" not in proc.stderr
    # The other targets are not held back by a broken plugin.
    assert (
        pipespec(project, "compile", "spec.yaml", "--target", "airflow", site=site).returncode == 0
    )
