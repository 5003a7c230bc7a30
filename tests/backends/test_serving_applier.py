"""The applier program, run for real (``python -c APPLIER_PROGRAM``) against a fake
Kubernetes API server on loopback: what it sends, and how it ends."""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pipespec.backends import serving_k8s
from pipespec.backends.serving_k8s import applier, kserve, rbac, seldon
from tests.backends.spec_ir import ir_of
from tests.conformance import k8s_serving_checks

SPEC = """\
pipespec: 1
name: serve
steps:
  train:
    kind: train
    framework: scikit-learn
    image: python:3.12-slim
    command: [python, train.py, "${outputs.model}"]
    outputs: {model: model}
  deploy:
    kind: deploy
    inputs: {model: train.model}
    endpoint: {name: churn-scorer, min_replicas: 1, max_replicas: 2}
"""
TOKEN = "test-token-123"
ISVC_PATH = "/apis/serving.kserve.io/v1beta1/namespaces/team-a/inferenceservices/churn-scorer"
FORBIDDEN = (
    'inferenceservices.serving.kserve.io "churn-scorer" is forbidden: User '
    '"system:serviceaccount:team-a:default" cannot create resource "inferenceservices" in API '
    'group "serving.kserve.io" in the namespace "team-a"'
)


@dataclass
class FakeApi:
    """Answers the apply with the object and each GET with the next scripted status."""

    statuses: list[dict[str, Any]]
    forbid: bool = False
    requests: list[dict[str, Any]] = field(default_factory=list)
    stored: dict[str, Any] | None = None
    gets: int = 0

    def answer(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any]:
        self.requests.append({"method": method, "path": path, "headers": headers, "body": body})
        if self.forbid:
            return 403, {"kind": "Status", "status": "Failure", "reason": "Forbidden",
                         "message": FORBIDDEN, "code": 403}  # fmt: skip
        if method == "PATCH":
            self.stored = json.loads(body)
            self.stored["metadata"]["generation"] = 1
            return 200, self.stored
        assert self.stored is not None, "GET before the apply"
        status = self.statuses[min(self.gets, len(self.statuses) - 1)]
        self.gets += 1
        return 200, {**self.stored, "status": status}


@contextlib.contextmanager
def _serving(fake: FakeApi, tls: ssl.SSLContext | None = None) -> Iterator[int]:
    """The fake API server on a loopback port (HTTPS with ``tls``), for the block."""

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            code, doc = fake.answer(self.command, self.path, dict(self.headers), body)
            raw = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        do_GET = do_PATCH = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def api() -> Iterator[tuple[FakeApi, str]]:
    fake = FakeApi([])
    with _serving(fake) as port:
        yield fake, f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def manifest_text(tmp_path_factory: pytest.TempPathFactory) -> str:
    pipeline = ir_of(tmp_path_factory.mktemp("spec"), SPEC)
    manifest = serving_k8s.deploy_manifest(pipeline, pipeline.step("deploy"), "kserve", None)
    assert manifest.ok
    return serving_k8s.manifest_json(manifest)


def _run(
    tmp_path: Path, base_url: str | None, manifest: str, *args: str, port: int = 0
) -> subprocess.CompletedProcess[str]:
    """The applier; ``base_url`` None: the in-cluster way (HTTPS to the service host,
    verified with the account directory's ca.crt)."""
    account = tmp_path / "sa"
    account.mkdir(exist_ok=True)
    (account / "token").write_text(TOKEN + "\n")
    (account / "namespace").write_text("team-a")
    env = {
        applier.SA_DIR_ENV: str(account),
        applier.MANIFEST_ENV: manifest,
        "PATH": "/usr/bin:/bin",
    }
    if base_url is not None:
        env[applier.API_URL_ENV] = base_url
    else:
        env |= {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(port)}
    argv = [sys.executable, "-c", serving_k8s.APPLIER_PROGRAM, "--poll", "0.02", *args]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)


READY = {
    "observedGeneration": 1,
    "url": "http://churn-scorer.team-a.example.com",
    "conditions": [{"type": "Ready", "status": "True"}],
}
PROGRESSING = {
    "observedGeneration": 1,
    "conditions": [{"type": "Ready", "status": "False", "reason": "PredictorNotReady"}],
}


def test_ready_after_a_few_polls(
    api: tuple[FakeApi, str], manifest_text: str, tmp_path: Path
) -> None:
    fake, url = api
    fake.statuses = [{}, PROGRESSING, PROGRESSING, READY]
    out = tmp_path / "out" / "endpoint"
    done = _run(tmp_path, url, manifest_text, "--model-uri", "s3://acme/models/7",
                "--url-file", str(out))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "is Ready at http://churn-scorer.team-a.example.com" in done.stdout
    assert json.loads(out.read_text()) == READY["url"]  # a value output is a JSON document
    assert fake.gets == 4
    patch = fake.requests[0]
    split = urlsplit(patch["path"])
    assert (patch["method"], split.path) == ("PATCH", ISVC_PATH)
    assert parse_qs(split.query) == {
        "fieldManager": ["pipespec"], "force": ["true"], "fieldValidation": ["Strict"]
    }  # fmt: skip
    assert patch["headers"]["Content-Type"] == "application/apply-patch+yaml"
    assert patch["headers"]["Authorization"] == f"Bearer {TOKEN}"
    sent = json.loads(patch["body"])
    assert sent["metadata"]["namespace"] == "team-a"  # the pod's own namespace
    assert sent["spec"]["predictor"]["model"]["storageUri"] == "s3://acme/models/7"
    assert serving_k8s.MODEL_URI_MARKER not in patch["body"].decode()
    assert k8s_serving_checks.problems(sent) == []
    assert all(r["method"] == "GET" and r["path"] == ISVC_PATH for r in fake.requests[1:])


def test_a_kfp_minio_uri_is_read_as_s3(
    api: tuple[FakeApi, str], manifest_text: str, tmp_path: Path
) -> None:
    fake, url = api
    fake.statuses = [READY]
    done = _run(tmp_path, url, manifest_text, "--model-uri", "minio://mlpipeline/v2/run/model")
    assert done.returncode == 0, done.stderr
    sent = json.loads(fake.requests[0]["body"])
    assert sent["spec"]["predictor"]["model"]["storageUri"] == "s3://mlpipeline/v2/run/model"


def test_a_failure_condition_ends_it_with_the_status(
    api: tuple[FakeApi, str], manifest_text: str, tmp_path: Path
) -> None:
    fake, url = api
    failed = {
        "observedGeneration": 1,
        "conditions": [{"type": "Ready", "status": "False", "reason": "RevisionFailed",
                        "message": "Revision churn-scorer-predictor-00001 failed"}],
        "modelStatus": {"transitionStatus": "BlockedByFailedLoad",
                        "lastFailureInfo": {"reason": "ModelLoadFailed"}},
    }  # fmt: skip
    fake.statuses = [PROGRESSING, failed, READY]
    done = _run(tmp_path, url, manifest_text, "--model-uri", "gs://b/m")
    assert done.returncode == 1
    assert "InferenceService churn-scorer failed" in done.stderr
    assert "Ready=False RevisionFailed Revision churn-scorer-predictor-00001 failed" in done.stderr
    assert "ModelLoadFailed" in done.stderr
    assert fake.gets == 2  # it stopped at the failure, not at the deadline


def test_it_gives_up_at_the_deadline(
    api: tuple[FakeApi, str], manifest_text: str, tmp_path: Path
) -> None:
    fake, url = api
    fake.statuses = [PROGRESSING]
    done = _run(tmp_path, url, manifest_text, "--model-uri", "gs://b/m", "--timeout", "0.3")
    assert done.returncode == 1
    assert "is not Ready after 0.3s" in done.stderr
    assert "Ready=False PredictorNotReady" in done.stderr
    assert fake.gets >= 2


def test_a_403_names_the_missing_permission(
    api: tuple[FakeApi, str], manifest_text: str, tmp_path: Path
) -> None:
    fake, url = api
    fake.forbid = True
    done = _run(tmp_path, url, manifest_text, "--model-uri", "gs://b/m")
    assert done.returncode == 1
    message = done.stderr
    assert "may not create inferenceservices.serving.kserve.io in namespace team-a" in message
    assert "must grant the verb 'create' on inferenceservices.serving.kserve.io" in message
    assert FORBIDDEN in message
    verbs = rbac.role(kserve.KIND, "team-a")["rules"][0]["verbs"]
    assert "create" in verbs  # the documented Role grants what the API asked for


def test_a_ready_status_of_the_previous_generation_is_not_believed(
    api: tuple[FakeApi, str], manifest_text: str, tmp_path: Path
) -> None:
    fake, url = api
    stale = {"observedGeneration": 0, "conditions": [{"type": "Ready", "status": "True"}]}
    fake.statuses = [stale, stale, READY]
    assert _run(tmp_path, url, manifest_text, "--model-uri", "gs://b/m").returncode == 0
    assert fake.gets == 3
    # Without observedGeneration: Ready counts after a not-ready status was seen.
    unversioned = {"conditions": [{"type": "Ready", "status": "True"}], "url": "http://x"}
    waiting = {"conditions": [{"type": "Ready", "status": "False"}]}
    fake.gets, fake.statuses = 0, [unversioned, waiting, unversioned]
    assert _run(tmp_path, url, manifest_text, "--model-uri", "gs://b/m").returncode == 0
    assert fake.gets == 3


def test_seldon_states(api: tuple[FakeApi, str], tmp_path: Path) -> None:
    fake, url = api
    pipeline = ir_of(tmp_path, SPEC)
    built = serving_k8s.deploy_manifest(pipeline, pipeline.step("deploy"), "seldon", "prod")
    text = serving_k8s.manifest_json(built)
    creating = {"observedGeneration": 1, "state": "Creating"}
    address = {"url": "http://churn-scorer-default.prod.svc.cluster.local:8000"}
    available = {"observedGeneration": 1, "state": "Available", "address": address}
    fake.statuses = [creating, available]
    done = _run(tmp_path, url, text, "--model-uri", "s3://b/m")
    assert done.returncode == 0, done.stderr
    assert "svc.cluster.local:8000" in done.stdout
    path = urlsplit(fake.requests[0]["path"]).path
    assert (
        path == "/apis/machinelearning.seldon.io/v1/namespaces/prod/seldondeployments/churn-scorer"
    )
    sent = json.loads(fake.requests[0]["body"])
    assert sent["spec"]["predictors"][0]["graph"]["modelUri"] == "s3://b/m"
    failed = {"state": "Failed", "description": "Deployment churn-scorer failed: ImagePullBackOff"}
    fake.gets, fake.statuses = 0, [creating, failed]
    done = _run(tmp_path, url, text, "--model-uri", "s3://b/m")
    assert done.returncode == 1 and "ImagePullBackOff" in done.stderr


@pytest.mark.parametrize(
    ("args", "manifest", "expected"),
    [
        ((), None, "pass --model-uri"),
        (("--model-uri",), None, "--model-uri needs a value"),
        (("--bogus", "1"), None, "unknown argument '--bogus'"),
        (("--model-uri", "x", "--timeout", "soon"), None, "--timeout takes a number"),
        (("--model-uri", "x"), '{"apiVersion": "v1", "kind": "Pod"}', "not an InferenceService"),
    ],
)
def test_usage_errors_exit_2_before_any_call(
    api: tuple[FakeApi, str], manifest_text: str, tmp_path: Path,
    args: tuple[str, ...], manifest: str | None, expected: str,
) -> None:  # fmt: skip
    fake, url = api
    done = _run(tmp_path, url, manifest or manifest_text, *args)
    assert done.returncode == applier.EXIT_USAGE
    assert expected in done.stderr
    assert fake.requests == []


def test_the_program_spells_its_constants_as_the_module_does() -> None:
    program = serving_k8s.APPLIER_PROGRAM
    assert f'MARKER = "{serving_k8s.MODEL_URI_MARKER}"' in program
    for constant in (applier.MANIFEST_ENV, applier.API_URL_ENV, applier.SA_DIR_ENV):
        assert f'"{constant}"' in program
    assert f'"fieldManager": "{applier.FIELD_MANAGER}"' in program
    assert f'"--timeout": "{applier.DEFAULT_TIMEOUT_S}"' in program
    assert set(re.findall(r"stop\([^\n]*, (\d)\)", program)) == {str(applier.EXIT_USAGE)}
    for kind, (group, plural) in rbac.RESOURCES.items():
        version = kserve.API_VERSION if kind == kserve.KIND else seldon.API_VERSION
        assert f'"{version}/{kind}": "{plural}"' in program and version.startswith(group)


def test_applier_args_are_one_value_each() -> None:
    args = serving_k8s.applier_args("s3://b/m; rm -rf /", url_file="/tmp/out", timeout_s=60)
    assert args == [
        "--model-uri",
        "s3://b/m; rm -rf /",
        "--timeout",
        "60",
        "--url-file",
        "/tmp/out",
    ]


def test_the_rbac_is_what_the_applier_calls() -> None:
    assert rbac.role(seldon.KIND, "prod") == {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "pipespec-deployer", "namespace": "prod",
                     "labels": {"app.kubernetes.io/managed-by": "pipespec"}},
        "rules": [{"apiGroups": ["machinelearning.seldon.io"],
                   "resources": ["seldondeployments"], "verbs": ["get", "create", "patch"]}],
    }  # fmt: skip
    binding = rbac.role_binding("prod", "pipeline-runner", "kubeflow")
    assert binding["roleRef"]["name"] == "pipespec-deployer"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "pipeline-runner", "namespace": "kubeflow"}
    ]


def _certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (openssl), and its key."""
    cert, key = folder / f"{name}.crt", folder / f"{name}.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_in_cluster_it_speaks_tls_verified_by_the_account_ca(
    manifest_text: str, tmp_path: Path
) -> None:
    cert, key = _certificate(tmp_path, "api")
    other, _ = _certificate(tmp_path, "other")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    fake = FakeApi([READY])
    (tmp_path / "sa").mkdir()
    with _serving(fake, tls) as port:
        shutil.copy(cert, tmp_path / "sa" / "ca.crt")
        done = _run(tmp_path, None, manifest_text, "--model-uri", "gs://b/m", port=port)
        assert done.returncode == 0, done.stderr
        assert fake.requests[0]["path"].startswith(ISVC_PATH + "?")
        # A server the account's CA did not sign is refused before anything is sent.
        shutil.copy(other, tmp_path / "sa" / "ca.crt")
        fake.requests.clear()
        done = _run(tmp_path, None, manifest_text, "--model-uri", "gs://b/m", port=port)
        assert done.returncode == 1
        assert "cannot reach the Kubernetes API" in done.stderr
        assert "CERTIFICATE_VERIFY_FAILED" in done.stderr
        assert fake.requests == []
