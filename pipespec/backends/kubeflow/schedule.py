"""``<name>.schedule.py``: what a user runs to put a scheduled pipeline on Kubeflow.

A KFP recurring run is not part of the pipeline file: it is created through the API, in an
experiment, against an uploaded pipeline version. So a spec's ``schedule`` becomes a small
script beside the YAML (``python churn.schedule.py --host https://kfp.example.com``) that
uploads the YAML (a new version when the pipeline exists), finds or creates the experiment
and creates the recurring run with the schedule as KFP's 6-field cron (``cron.kfp_cron``).

The script's code is the fixed text ``SCRIPT_BODY``; the spec's values enter it only as one
block of assignments at the top, each value a literal from ``pysafe.py_literal``, after the
fixed ``pysafe`` preamble (no spec text can reach the coding-declaration lines).
"""

from __future__ import annotations

from pipespec import __version__, ir
from pipespec.backends.kubeflow.cron import kfp_cron
from pipespec.backends.kubeflow.options import KubeflowOptions
from pipespec.backends.layout import output_path, spec_relative_to
from pipespec.pysafe import py_literal, python_header

TARGET = "kubeflow"
SCRIPT_EXT = "schedule.py"

# The names of the assignments the script starts with, in order (tests read them back).
VALUE_NAMES = (
    "PIPELINE_NAME",
    "PIPELINE_DESCRIPTION",
    "PIPELINE_FILE",
    "SPEC_SCHEDULE",
    "CRON_EXPRESSION",
    "EXPERIMENT",
    "NAMESPACE",
    "SERVICE_ACCOUNT",
)

SCRIPT_DOC = '''"""Upload the Kubeflow pipeline beside this script and schedule it.

    python THIS_SCRIPT [--host URL] [--namespace NS] [--experiment NAME]
                       [--version-name NAME] [--service-account NAME] [--replace]
                       [--dry-run]

Uploads PIPELINE_FILE (from this script's folder) as the pipeline PIPELINE_NAME, or as a new
version of it when the pipeline exists; finds or creates the experiment; creates the
recurring run PIPELINE_NAME on CRON_EXPRESSION (KFP's cron: seconds first; times in the
ScheduledWorkflow controller's CRON_SCHEDULE_TIMEZONE, UTC unless set). With --dry-run it
prints what it would do and contacts nothing. Needs the `kfp` package; the connection and
credentials are kfp.Client's own (KF_PIPELINES_ENDPOINT and the other KF_PIPELINES_*
variables, the kube config), never this file's.
"""
'''

SCRIPT_BODY = '''
# Fixed choices, the same for every pipeline pipespec schedules.
MAX_CONCURRENCY = 1  # one run of this schedule at a time
NO_CATCHUP = True  # after a pause, run the latest missed time only (as Airflow's catchup=False)


def _arguments(argv):
    parser = argparse.ArgumentParser(
        description="Upload the pipeline beside this script and create its recurring run."
    )
    parser.add_argument("--host", help="KFP API endpoint (default: kfp.Client's own discovery)")
    parser.add_argument("--namespace", default=NAMESPACE, help="user namespace (multi-user)")
    parser.add_argument("--experiment", default=EXPERIMENT, help="experiment of the run")
    parser.add_argument("--version-name", help="pipeline version name (default: name and UTC time)")
    parser.add_argument(
        "--service-account", default=SERVICE_ACCOUNT, help="Kubernetes service account of the runs"
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="delete recurring runs of this name in the experiment, then create the new one",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the plan only")
    return parser.parse_args(argv)


def _name_filter(name):
    predicate = {"operation": "EQUALS", "key": "display_name", "stringValue": name}
    return json.dumps({"predicates": [predicate]})


def _find_pipeline(client, namespace):
    found = client.list_pipelines(filter=_name_filter(PIPELINE_NAME), namespace=namespace)
    pipelines = found.pipelines or []
    if len(pipelines) > 1:
        raise SystemExit(f"error: {len(pipelines)} pipelines are named {PIPELINE_NAME!r}")
    return pipelines[0].pipeline_id if pipelines else None


def _upload(client, package, version, namespace):
    """(pipeline id, version id); the version id is None for a new pipeline: its only
    version, the one just uploaded, is its default."""
    pipeline_id = _find_pipeline(client, namespace)
    if pipeline_id is None:
        pipeline = client.upload_pipeline(
            package,
            pipeline_name=PIPELINE_NAME,
            description=PIPELINE_DESCRIPTION,
            namespace=namespace,
        )
        return pipeline.pipeline_id, None
    uploaded = client.upload_pipeline_version(
        package,
        pipeline_version_name=version,
        pipeline_id=pipeline_id,
        description=PIPELINE_DESCRIPTION,
    )
    return pipeline_id, uploaded.pipeline_version_id


def _plan(args, package, version):
    lines = [
        f"pipeline file:  {package!r}",
        f"pipeline:       {PIPELINE_NAME!r} in namespace {args.namespace!r}: uploaded,"
        f" or its new version {version!r} when it exists",
        f"experiment:     {args.experiment!r} (found, or created)",
        f"recurring run:  {PIPELINE_NAME!r}, cron {CRON_EXPRESSION!r}"
        f" (the spec's {SPEC_SCHEDULE!r}), max concurrency {MAX_CONCURRENCY},"
        f" no catchup {NO_CATCHUP}, service account {args.service_account!r}",
    ]
    if args.replace:
        lines.append("replacing:      recurring runs of that name in the experiment")
    return lines


def main(argv=None):
    args = _arguments(argv)
    folder = os.path.dirname(os.path.abspath(__file__))
    package = os.path.join(folder, PIPELINE_FILE)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")
    version = args.version_name or f"{PIPELINE_NAME}-{stamp}"
    if not os.path.isfile(package):
        print(f"error: no pipeline file {package!r} beside this script", file=sys.stderr)
        return 2
    if args.dry_run:
        print("\\n".join(["dry run: nothing contacted", *_plan(args, package, version)]))
        return 0

    import kfp

    client = kfp.Client(host=args.host)
    experiment = client.create_experiment(name=args.experiment, namespace=args.namespace)
    existing = client.list_recurring_runs(
        experiment_id=experiment.experiment_id, filter=_name_filter(PIPELINE_NAME), page_size=100
    )
    old = existing.recurring_runs or []
    if old and not args.replace:
        print(
            f"error: experiment {args.experiment!r} already has {len(old)} recurring run(s)"
            f" named {PIPELINE_NAME!r}; pass --replace to delete them and create the new one",
            file=sys.stderr,
        )
        return 1
    pipeline_id, version_id = _upload(client, package, version, args.namespace)
    for run in old:
        client.delete_recurring_run(run.recurring_run_id)
    run = client.create_recurring_run(
        experiment_id=experiment.experiment_id,
        job_name=PIPELINE_NAME,
        description=PIPELINE_DESCRIPTION,
        cron_expression=CRON_EXPRESSION,
        pipeline_id=pipeline_id,
        version_id=version_id,
        enabled=True,
        max_concurrency=MAX_CONCURRENCY,
        no_catchup=NO_CATCHUP,
        service_account=args.service_account,
    )
    print(f"recurring run {run.recurring_run_id!r}: {PIPELINE_NAME!r} on {CRON_EXPRESSION!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''


def run_service_account(pipeline: ir.Pipeline) -> str | None:
    """The service account of the recurring run's pods: the one the steps name. KFP sets
    one per run, not per task; steps naming different ones cannot be honoured (check this
    first to report it: it raises ValueError)."""
    accounts = sorted({s.service_account for s in pipeline.steps if s.service_account})
    if len(accounts) > 1:
        raise ValueError(
            f"steps name different service accounts ({', '.join(accounts)}); a Kubeflow run has one"
        )
    return accounts[0] if accounts else None


def schedule_script(
    pipeline: ir.Pipeline, options: KubeflowOptions, pipeline_file: str
) -> str | None:
    """The script's text, or None when the pipeline has no schedule. ``pipeline_file`` is
    the YAML's file name, in the script's folder. Raises ``cron.UnsupportedSchedule`` for a
    schedule KFP's cron cannot express (check with ``cron.kfp_cron`` first to report it)
    and ValueError for steps naming different service accounts (``run_service_account``)."""
    if pipeline.schedule is None:
        return None
    values = (
        pipeline.name,
        pipeline.description,
        pipeline_file,
        pipeline.schedule,
        kfp_cron(pipeline.schedule),
        options.experiment,
        options.namespace,
        run_service_account(pipeline),
    )
    path = output_path(TARGET, pipeline.name, SCRIPT_EXT)
    header = python_header(
        [
            f"pipespec {__version__} wrote this from the spec "
            f"{spec_relative_to(path, pipeline.source_file)} (relative to",
            f"this file). Regenerate: pipespec compile SPEC --target {TARGET}",
            f"Spec sha256: {pipeline.source_digest}",
        ]
    )
    assignments = "".join(
        f"{name} = {py_literal(value)}\n" for name, value in zip(VALUE_NAMES, values, strict=True)
    )
    return (
        header
        + SCRIPT_DOC
        + "\nfrom __future__ import annotations\n\n"
        + "import argparse\nimport datetime\nimport json\nimport os\nimport sys\n\n"
        + "# From the spec (each value a Python literal).\n"
        + assignments
        + SCRIPT_BODY
    )
