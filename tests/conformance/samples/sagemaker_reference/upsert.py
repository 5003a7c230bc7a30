"""The service calls behind Pipeline.upsert and Pipeline.put_triggers (PipelineSchedule),
captured from botocore's before-call event and answered locally: prints each call's
operation and parameters (the definition is parsed back from its JSON string)."""

import json
import sys
from datetime import datetime, timezone
from typing import Any

from _offline import ROLE, session
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.parameters import ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.triggers import PipelineSchedule

CALLS: list[dict[str, Any]] = []
ARN = "arn:aws:sagemaker:eu-west-1:111122223333:pipeline/upsert-demo"
ANSWERS: dict[str, dict[str, Any]] = {
    "CreatePipeline": {"PipelineArn": ARN},
    "DescribePipeline": {"PipelineArn": ARN, "PipelineName": "upsert-demo"},
    "UpdateSchedule": {},  # replaced by a ResourceNotFound error below
    "CreateSchedule": {
        "ScheduleArn": "arn:aws:scheduler:eu-west-1:111122223333:schedule/default/nightly"
    },
}


def _record(model: Any, params: dict[str, Any], **_: Any) -> None:
    # before-parameter-build sees the API parameters as the caller passed them.
    shown = {k: v for k, v in params.items() if k not in ("ClientToken", "ClientRequestToken")}
    if "PipelineDefinition" in shown:
        shown["PipelineDefinition"] = json.loads(shown["PipelineDefinition"])
    CALLS.append({"operation": model.name, "params": shown})


def _answer(model: Any, **_: Any) -> tuple[Any, dict[str, Any]]:
    # before-call may short-circuit the request: its (http, parsed) answer is used as is.
    name = model.name
    http = type("Http", (), {"status_code": 200})()
    if name == "UpdateSchedule":  # the SDK tries update first, then create on ResourceNotFound
        err = {"Error": {"Code": "ResourceNotFoundException", "Message": "not found"}}
        http = type("Http", (), {"status_code": 404})()
        return http, err
    return http, ANSWERS.get(name, {})


sess = session()
# Clients copy the session's event handlers when they are made: the scheduler client is made
# by Pipeline(), the sagemaker client already exists (the Session made it).
for events in (sess.boto_session.events, sess.sagemaker_client.meta.events):
    for service in ("sagemaker", "scheduler"):
        events.register(f"before-parameter-build.{service}", _record)
        events.register(f"before-call.{service}", _answer)

pipeline = Pipeline(
    name="upsert-demo",
    parameters=[ParameterString(name="Stage", default_value="dev")],
    steps=[FailStep(name="Stop", error_message="demo")],
    sagemaker_session=sess,
)
pipeline.upsert(role_arn=ROLE, description="demo pipeline", tags=[{"Key": "team", "Value": "ml"}])
pipeline.put_triggers(
    triggers=[
        PipelineSchedule(
            name="nightly",
            cron="0 3 * * ? *",
            start_date=datetime(2026, 1, 1, tzinfo=timezone.utc),
        )
    ],
    role_arn="arn:aws:iam::111122223333:role/SchedulerRole",
)
json.dump(CALLS, sys.stdout, indent=2, default=str)
sys.stdout.write("\n")
