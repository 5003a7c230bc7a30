"""ConditionStep over a PropertyFile (JsonGet), with GreaterThanOrEqualTo, Not, Or, In,
if_steps/else_steps, and a FailStep on the else branch."""

from _offline import ROLE, session, show
from sagemaker.processing import ProcessingOutput, ScriptProcessor
from sagemaker.workflow.condition_step import ConditionStep
from sagemaker.workflow.conditions import (
    ConditionEquals,
    ConditionGreaterThanOrEqualTo,
    ConditionIn,
    ConditionLessThan,
    ConditionNot,
    ConditionOr,
)
from sagemaker.workflow.fail_step import FailStep
from sagemaker.workflow.functions import Join, JsonGet
from sagemaker.workflow.parameters import ParameterFloat, ParameterString
from sagemaker.workflow.pipeline import Pipeline
from sagemaker.workflow.properties import PropertyFile
from sagemaker.workflow.steps import ProcessingStep

sess = session()
threshold = ParameterFloat(name="Threshold", default_value=0.75)
stage = ParameterString(name="Stage", default_value="dev")

report = PropertyFile(name="EvalReport", output_name="evaluation", path="evaluation.json")
evaluate = ProcessingStep(
    name="Evaluate",
    step_args=ScriptProcessor(
        image_uri="111122223333.dkr.ecr.eu-west-1.amazonaws.com/eval:latest",
        command=["python3"],
        role=ROLE,
        instance_type="ml.m5.xlarge",
        instance_count=1,
        sagemaker_session=sess,
    ).run(
        code="s3://my-bucket/code/evaluate.py",
        outputs=[
            ProcessingOutput(output_name="evaluation", source="/opt/ml/processing/evaluation")
        ],
    ),
    property_files=[report],
)
auc = JsonGet(step_name=evaluate.name, property_file=report, json_path="metrics.auc.value")
good = ConditionGreaterThanOrEqualTo(left=auc, right=threshold)
not_bad = ConditionNot(expression=ConditionLessThan(left=auc, right=0.5))
either = ConditionOr(conditions=[ConditionEquals(left=stage, right="prod"), not_bad])
known = ConditionIn(value=stage, in_values=["dev", "prod"])

ok = FailStep(name="Placeholder", error_message="if branch (a real pipeline registers here)")
fail = FailStep(
    name="TooLow",
    error_message=Join(on=" ", values=["auc below", threshold]),
)
check = ConditionStep(
    name="CheckAUC",
    conditions=[good, either, known],  # a list is an implicit AND
    if_steps=[ok],
    else_steps=[fail],
)
show(
    Pipeline(
        name="ref-condition",
        parameters=[threshold, stage],
        steps=[evaluate, check],
        sagemaker_session=sess,
    )
)
