"""Argument and env values as strings for Airflow's templated fields: the shared
placeholder walk with a resolver that spells each placeholder as Jinja (a param, an XCom
pull, an artifact URI under the run's folder) and escapes the literal text around it."""

from __future__ import annotations

from collections.abc import Mapping

from pipespec import ir
from pipespec.backends.airflow.context import (
    XCOM_RETURN,
    Context,
    best_key,
    is_mapped,
    natively_tuned,
    trial_marker,
)
from pipespec.backends.airflow.jinja_text import escape_literal, keep_final_newline
from pipespec.backends.placeholders import Resolver, walk

ONE_OF_MACRO = "pipespec_one_of"


class JinjaResolver(Resolver[str]):
    """Placeholders as Jinja. Called for every placeholder of every step (and again per
    literal fan-out item): lookups here must be O(1)."""

    def __init__(
        self, ctx: Context, item_text: str | None, item_fields: Mapping[str, str] | None = None
    ) -> None:
        self.ctx = ctx
        self.item_text = item_text  # the fan-out item, already escaped, or a marker
        # A literal mapping item's values, escaped; None: the item is known at run time.
        self.item_fields = item_fields

    def value(self, step: ir.Step, segments: tuple[ir.Segment, ...]) -> str:
        """One argument or env value, as the string a templated field renders back."""
        return keep_final_newline("".join(walk(step, segments, self)))

    def text(self, step: ir.Step, text: str) -> str:
        return escape_literal(text)

    def param(self, step: ir.Step, name: str) -> str:
        """A run-time param as Jinja: strings as they are, anything else as JSON."""
        suffix = "" if self.ctx.params[name].type == "string" else " | tojson"
        return "{{ params['" + name + "']" + suffix + " }}"

    def input_literal(self, step: ir.Step, inp: ir.Input, source: ir.LiteralUri) -> str:
        return escape_literal(source.uri)

    def input_artifact(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        producer = self.ctx.producer(source.step)
        if natively_tuned(producer):
            return _best_trial_output(producer, source, inp.type)
        uri = self.ctx.artifact_uri(producer, source.output, mapped_item=False)
        # A mapped producer wrote one folder per item under it.
        return uri + ("/" if producer.foreach is not None else "")

    def input_one_of(self, step: ir.Step, inp: ir.Input, source: ir.OneOf) -> str:
        """Whichever source was produced, picked at run time by the DAG's one_of macro
        (``branching.add_one_of``). Step ids and input names are identifiers, so the key
        is safe inside the Jinja string."""
        return "{{ " + ONE_OF_MACRO + "(ti, run_id, '" + f"{step.id}.{inp.name}" + "') }}"

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        producer = self.ctx.producer(source.step)
        if producer.foreach is not None:
            return _fan_in(self.ctx, producer, source.output)
        if natively_tuned(producer) or not self.ctx.kubernetes:
            # operator: local writes parameter outputs to files, like artifacts.
            return self.input_artifact(step, inp, source)
        pull = f"ti.xcom_pull(task_ids='{source.step}', key='{self.ctx.xcom_key(source.output)}')"
        return "{{ " + pull + ("" if inp.type == "string" else " | tojson") + " }}"

    def output(self, step: ir.Step, output: ir.Output) -> str:
        if output.is_parameter and self.ctx.kubernetes:
            return XCOM_RETURN
        return self.ctx.artifact_uri(step, output.name, mapped_item=is_mapped(step))

    def hyperparameter(self, step: ir.Step, name: str) -> str:
        """A marker `_fill_item` replaces with the trial's value (see fanout.tuned_tasks)."""
        if not natively_tuned(step):  # validation allows it only in tune steps with trials
            raise ValueError(f"step '{step.id}' uses ${{hyperparameters.{name}}} without trials")
        return trial_marker(name)

    def item_key(self, step: ir.Step, key: str) -> str:
        """A literal item's value, or a marker `_fill_item` fills from the run-time item."""
        if self.item_text is None:
            raise ValueError(f"step '{step.id}' uses ${{item.{key}}} outside a fan-out")
        if self.item_fields is None:
            return trial_marker(key)
        return self.item_fields[key]

    def item(self, step: ir.Step) -> str:
        if self.item_text is None:  # validation allows ${item} only in foreach steps
            raise ValueError(f"step '{step.id}' uses ${{item}} outside a fan-out")
        return self.item_text


def _fan_in(ctx: Context, producer: ir.Step, output: str) -> str:
    """Every item's value of a `foreach` producer's parameter output, as a JSON list in
    item order (KFP's dsl.Collected). The map indexes are explicit: without them Airflow 3
    returns a lone value, not a list, when there was one item, and a mapped consumer would
    pull only its own index."""
    fe = producer.foreach
    assert fe is not None
    if fe.items is not None:
        count = str(len(fe.items))
    elif fe.param is not None:
        count = f"params['{fe.param}'] | length"
    else:
        assert fe.ref is not None
        items = f"ti.xcom_pull(task_ids='{fe.ref.step}', key='{ctx.xcom_key(fe.ref.output)}')"
        count = f"{items} | length"
    pull = (
        f"ti.xcom_pull(task_ids='{producer.id}', key='{ctx.xcom_key(output)}', "
        f"map_indexes=range({count})) | list | tojson"
    )
    return "{{ " + pull + " }}"


def _best_trial_output(producer: ir.Step, source: ir.ArtifactRef, type_name: str) -> str:
    """The best trial's outputs, as its `<step>.best` task reports them."""
    pull = f"ti.xcom_pull(task_ids='{producer.id}.best')['{best_key(source.output)}']"
    plain = type_name in ("model", "dataset", "artifact", "string")
    return "{{ " + pull + ("" if plain else " | tojson") + " }}"


def plain(value: str) -> str:
    """A setting's literal text, for a templated field."""
    return keep_final_newline(escape_literal(value))
