"""The program a deploy task runs in its pod: it applies the serving manifest and waits.

``APPLIER_PROGRAM`` is a fixed constant of pipespec (standard library only), never built
from spec text: the manifest reaches it as JSON data (``PIPESPEC_MANIFEST``, or a file)
and the model's location as an argument. It

1. reads the manifest and sets the model's location (``--model-uri``) in every field
   holding ``MODEL_URI_MARKER`` (a whole value, replaced in the parsed JSON; a KFP
   ``minio://`` URI is read as the ``s3://`` one MinIO serves);
2. applies it in-cluster with the pod's service account: a server-side apply ``PATCH``
   (``application/apply-patch+yaml``, field manager ``pipespec``, conflicts forced: the
   resource is pipespec's, and ``fieldValidation=Strict`` so a field the installed CRD
   lacks is an error, not silently dropped);
3. polls the resource until it is Ready (exit 0, printing its URL and writing it to
   ``--url-file``), a failure shows in its status, or ``--timeout`` seconds pass (exit 1,
   printing the status conditions). An API error exits 1 saying what failed: a 403 names
   the RBAC permission the service account lacks (``role()`` in ``rbac.py`` grants them).

Usage: ``python3 -c APPLIER_PROGRAM [--manifest-file PATH] [--model-uri URI]
[--timeout SECONDS] [--poll SECONDS] [--settle SECONDS] [--url-file PATH]``. A
status that carries no ``observedGeneration`` may be the previous model's: its Ready counts
once the resource was seen not ready, or after ``--settle`` seconds (default 15).

Tests (only) point it at a fake API server: ``PIPESPEC_K8S_API_URL`` replaces
``https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT`` (an ``http://`` URL skips
TLS) and ``PIPESPEC_K8S_SA_DIR`` the service account directory (token, ca.crt, namespace).
"""

from __future__ import annotations

MANIFEST_ENV = "PIPESPEC_MANIFEST"
API_URL_ENV = "PIPESPEC_K8S_API_URL"  # tests only
SA_DIR_ENV = "PIPESPEC_K8S_SA_DIR"  # tests only
FIELD_MANAGER = "pipespec"
DEFAULT_TIMEOUT_S = 900
EXIT_USAGE = 2

# The program names its constants literally (a test checks they equal the ones above):
# it is shipped as this text, so nothing is formatted into it.
APPLIER_PROGRAM = """\
import json, os, re, ssl, sys, time, urllib.error, urllib.parse, urllib.request
MARKER = "pipespec://model-uri"
SA = os.environ.get("PIPESPEC_K8S_SA_DIR") or "/var/run/secrets/kubernetes.io/serviceaccount"
KINDS = {
    "serving.kserve.io/v1beta1/InferenceService": "inferenceservices",
    "machinelearning.seldon.io/v1/SeldonDeployment": "seldondeployments",
}
FAILED_REASONS = {"RevisionFailed", "ProgressDeadlineExceeded", "ContainerMissing"}
FAILED_TRANSITIONS = {"BlockedByFailedLoad", "InvalidSpec"}
def say(text):
    print("[pipespec] " + text, flush=True)
def stop(text, code=1):
    print("[pipespec] " + text, file=sys.stderr, flush=True)
    sys.exit(code)
def options(argv):
    opts = {"--manifest-file": None, "--model-uri": None, "--timeout": "900",
            "--poll": "5", "--settle": "15", "--url-file": None}
    it = iter(argv)
    for arg in it:
        if arg not in opts:
            stop("unknown argument " + repr(arg), 2)
        opts[arg] = next(it, None)
        if opts[arg] is None:
            stop(arg + " needs a value", 2)
    for key in ("--timeout", "--poll", "--settle"):
        try:
            float(opts[key])
        except ValueError:
            stop(key + " takes a number of seconds, not " + repr(opts[key]), 2)
    return opts
def manifest(opts):
    if opts["--manifest-file"]:
        with open(opts["--manifest-file"], encoding="utf-8") as handle:
            text = handle.read()
    else:
        text = os.environ.get("PIPESPEC_MANIFEST")
        if not text:
            stop("no manifest: set PIPESPEC_MANIFEST or pass --manifest-file", 2)
    doc = json.loads(text)
    kind = "%s/%s" % (doc.get("apiVersion"), doc.get("kind")) if isinstance(doc, dict) else ""
    if kind not in KINDS:
        stop("the manifest is not an InferenceService or SeldonDeployment", 2)
    return doc
def put_uri(node, uri):
    if isinstance(node, dict):
        return {k: put_uri(v, uri) for k, v in node.items()}
    if isinstance(node, list):
        return [put_uri(v, uri) for v in node]
    return uri if node == MARKER else node
def has_marker(node):
    if isinstance(node, dict):
        return any(has_marker(v) for v in node.values())
    if isinstance(node, list):
        return any(has_marker(v) for v in node)
    return node == MARKER
def read(name):
    with open(os.path.join(SA, name), encoding="utf-8") as handle:
        return handle.read().strip()
def base():
    url = os.environ.get("PIPESPEC_K8S_API_URL")
    if url:
        return url.rstrip("/")
    host = os.environ.get("KUBERNETES_SERVICE_HOST")
    if not host:
        stop("not in a Kubernetes pod: KUBERNETES_SERVICE_HOST is unset")
    host = "[" + host + "]" if ":" in host else host
    return "https://%s:%s" % (host, os.environ.get("KUBERNETES_SERVICE_PORT", "443"))
def call(method, url, verb, what, body=None, ctype=None):
    headers = {"Accept": "application/json", "Authorization": "Bearer " + read("token")}
    if ctype:
        headers["Content-Type"] = ctype
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cafile=os.path.join(SA, "ca.crt"))
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60, context=context) as response:
            return json.loads(response.read(1 << 24))
    except urllib.error.HTTPError as error:
        raw = error.read(1 << 16).decode("utf-8", "replace")
        try:
            message = json.loads(raw).get("message") or raw
        except ValueError:
            message = raw
        if error.code == 403:
            # The API names the verb it denied (an apply that creates needs `create`).
            denied = re.search(r"cannot (\\w+) resource", message)
            verb = denied.group(1) if denied else verb
            stop("forbidden: the pod's service account may not %s %s (RBAC: a Role bound "
                 "to it must grant the verb '%s' on %s); the API said: %s"
                 % (verb, what, verb, what.split(" ")[0], message))
        stop("%s %s failed: HTTP %d: %s" % (verb, what, error.code, message))
    except (urllib.error.URLError, OSError) as error:
        stop("cannot reach the Kubernetes API at %s: %s" % (url, error))
def verdict(obj, kind):
    status = obj.get("status") or {}
    conditions = status.get("conditions") or []
    generation = (obj.get("metadata") or {}).get("generation")
    seen = status.get("observedGeneration")
    current = generation is None or seen is None or seen >= generation
    if kind == "SeldonDeployment" and status.get("state") == "Failed":
        return "failed"
    transition = (status.get("modelStatus") or {}).get("transitionStatus")
    if current and transition in FAILED_TRANSITIONS:
        return "failed"
    for c in conditions:
        if current and c.get("status") == "False" and c.get("reason") in FAILED_REASONS:
            return "failed"
    if kind == "SeldonDeployment":
        return "ready" if status.get("state") == "Available" and current else "waiting"
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    return "ready" if ready and current else "waiting"
def describe(obj):
    status = obj.get("status") or {}
    lines = []
    for c in status.get("conditions") or []:
        found = (c.get("type"), c.get("status"), c.get("reason") or "", c.get("message") or "")
        lines.append("  %s=%s %s %s" % found)
    for key in ("state", "description", "modelStatus"):
        if key in status:
            lines.append("  %s: %s" % (key, json.dumps(status[key], sort_keys=True)))
    return "\\n".join(lines) or "  (no status yet)"
def url_of(obj):
    status = obj.get("status") or {}
    return status.get("url") or (status.get("address") or {}).get("url") or ""
def main(argv):
    opts = options(argv)
    doc = manifest(opts)
    if has_marker(doc):
        uri = opts["--model-uri"] or stop("the manifest needs the model: pass --model-uri", 2)
        if uri.startswith("minio://"):
            uri = "s3://" + uri[len("minio://"):]
        doc = put_uri(doc, uri)
    meta = doc.setdefault("metadata", {})
    namespace = meta.get("namespace") or read("namespace")
    meta["namespace"] = namespace
    kind, name = doc["kind"], meta["name"]
    group_version = doc["apiVersion"]
    plural = KINDS[group_version + "/" + kind]
    what = "%s.%s in namespace %s" % (plural, group_version.split("/")[0], namespace)
    path = (group_version, urllib.parse.quote(namespace), plural, urllib.parse.quote(name))
    url = base() + "/apis/%s/namespaces/%s/%s/%s" % path
    query = urllib.parse.urlencode(
        {"fieldManager": "pipespec", "force": "true", "fieldValidation": "Strict"})
    body = json.dumps(doc).encode("utf-8")
    applied = call("PATCH", url + "?" + query, "patch", what, body, "application/apply-patch+yaml")
    generation = (applied.get("metadata") or {}).get("generation")
    say("applied %s %s/%s (generation %s)" % (kind, namespace, name, generation))
    started = time.monotonic()
    deadline = started + float(opts["--timeout"])
    settled = started + float(opts["--settle"])
    waited = False
    while True:
        obj = call("GET", url, "get", what)
        state = verdict(obj, kind)
        # A status without observedGeneration may still be the previous model's: believe
        # its Ready once it was seen not ready, or after --settle seconds.
        stale = "observedGeneration" not in (obj.get("status") or {})
        if state == "ready" and stale and not waited and time.monotonic() < settled:
            state = "settling"
        waited = waited or state == "waiting"
        if state == "ready":
            address = url_of(obj)
            say("%s %s is Ready at %s" % (kind, name, address or "(no URL in its status)"))
            if opts["--url-file"]:
                folder = os.path.dirname(opts["--url-file"])
                if folder:
                    os.makedirs(folder, exist_ok=True)
                with open(opts["--url-file"], "w", encoding="utf-8") as handle:
                    handle.write(json.dumps(address))  # a value output is JSON
            return 0
        if state == "failed":
            stop("%s %s failed:\\n%s" % (kind, name, describe(obj)))
        if time.monotonic() >= deadline:
            late = (kind, name, opts["--timeout"], describe(obj))
            stop("%s %s is not Ready after %ss:\\n%s" % late)
        time.sleep(float(opts["--poll"]))
sys.exit(main(sys.argv[1:]))
"""


def applier_args(
    model_uri: str | None = None,
    *,
    manifest_file: str | None = None,
    timeout_s: int | None = None,
    url_file: str | None = None,
) -> list[str]:
    """The program's argv after ``python3 -c APPLIER_PROGRAM`` (each value one argument;
    the backend puts its run-time placeholders for the model URI and paths here)."""
    args: list[str] = []
    if manifest_file is not None:
        args += ["--manifest-file", manifest_file]
    if model_uri is not None:
        args += ["--model-uri", model_uri]
    if timeout_s is not None:
        args += ["--timeout", str(timeout_s)]
    if url_file is not None:
        args += ["--url-file", url_file]
    return args
