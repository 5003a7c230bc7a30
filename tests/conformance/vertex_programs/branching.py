"""examples/branching for Vertex AI, plain container tasks as on Kubeflow: a quality gate
with an else branch, a join of whichever branch ran (dsl.OneOf), and the fail helper that
stops the run below a floor."""

from kfp import dsl

from tests.conformance.kfp_programs.common import FAIL_PROGRAM, HELPER_IMAGE

IMAGE = "ghcr.io/acme/models:2.0.1"


@dsl.container_component
def train(model: dsl.Output[dsl.Model]):
    return dsl.ContainerSpec(
        image=IMAGE, command=["python", "-m", "models.train", "--model", model.path]
    )


# `metrics_auc`: the metric the dsl.If compares (kfp_normal_form._metric_views).
@dsl.container_component
def evaluate(
    model: dsl.Input[dsl.Model],
    metrics: dsl.OutputPath(dict),
    metrics_auc: dsl.OutputPath(float),
):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "models.evaluate", "--model", model.path, "--metrics", metrics],
    )


# Python names an input and an output alike only once: the input is `trained`.
@dsl.container_component
def promote(trained: dsl.Input[dsl.Model], model: dsl.Output[dsl.Model]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "models.promote", "--model", trained.path, "--out", model.path],
    )


@dsl.container_component
def retrain(model: dsl.Output[dsl.Model]):
    return dsl.ContainerSpec(
        image=IMAGE,
        command=["python", "-m", "models.train", "--bigger", "--model", model.path],
    )


@dsl.container_component
def publish(model: dsl.Input[dsl.Model]):
    return dsl.ContainerSpec(
        image=IMAGE, command=["python", "-m", "models.publish", "--model", model.path]
    )


@dsl.container_component
def stop():
    return dsl.ContainerSpec(image=HELPER_IMAGE, command=["sh", "-c", FAIL_PROGRAM])


@dsl.pipeline(
    name="branching",
    description="Promote a good model, retrain a weak one, publish whichever exists",
)
def pipeline(min_auc: float = 0.8, floor: float = 0.5):
    trained = train()
    scores = evaluate(model=trained.outputs["model"])
    with dsl.If(scores.outputs["metrics_auc"] >= min_auc):
        promoted = promote(trained=trained.outputs["model"])
    with dsl.Else():
        retrained = retrain()
    publish(model=dsl.OneOf(promoted.outputs["model"], retrained.outputs["model"]))
    with dsl.If(scores.outputs["metrics_auc"] < floor):
        stop().set_env_variable(
            "PIPESPEC_FAIL_MESSAGE",
            "AUC is below the floor: the data is probably broken, not the model",
        )
