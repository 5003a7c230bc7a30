"""Argument and env values as strings for Airflow's templated fields: the shared
placeholder walk with a resolver that spells each placeholder as Jinja (a param, an XCom
pull, an artifact URI under the run's folder) and escapes the literal text around it."""

from __future__ import annotations

from pipespec import ir
from pipespec.backends.airflow.context import XCOM_RETURN, Context, is_mapped, natively_tuned
from pipespec.backends.airflow.jinja_text import escape_literal, keep_final_newline
from pipespec.backends.placeholders import Resolver, walk


class JinjaResolver(Resolver[str]):
    """Placeholders as Jinja. Called for every placeholder of every step (and again per
    literal fan-out item): lookups here must be O(1)."""

    def __init__(self, ctx: Context, item_text: str | None) -> None:
        self.ctx = ctx
        self.item_text = item_text  # the fan-out item, already escaped, or a marker

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
        producer = self.ctx.p.step(source.step)
        if natively_tuned(producer):
            return _best_trial_output(producer, source, inp.type)
        uri = self.ctx.artifact_uri(producer, source.output, mapped_item=False)
        # A mapped producer wrote one folder per item under it.
        return uri + ("/" if producer.foreach is not None else "")

    def input_parameter(self, step: ir.Step, inp: ir.Input, source: ir.ArtifactRef) -> str:
        producer = self.ctx.p.step(source.step)
        if natively_tuned(producer) or not self.ctx.kubernetes:
            # operator: local writes parameter outputs to files, like artifacts.
            return self.input_artifact(step, inp, source)
        pull = f"ti.xcom_pull(task_ids='{source.step}', key='{self.ctx.xcom_key(source.output)}')"
        return "{{ " + pull + ("" if inp.type == "string" else " | tojson") + " }}"

    def output(self, step: ir.Step, output: ir.Output) -> str:
        if output.is_parameter and self.ctx.kubernetes:
            return XCOM_RETURN
        return self.ctx.artifact_uri(step, output.name, mapped_item=is_mapped(step))

    def item(self, step: ir.Step) -> str:
        if self.item_text is None:  # validation allows ${item} only in foreach steps
            raise ValueError(f"step '{step.id}' uses ${{item}} outside a fan-out")
        return self.item_text


def _best_trial_output(producer: ir.Step, source: ir.ArtifactRef, type_name: str) -> str:
    """The best trial's outputs, as its `<step>.best` task reports them."""
    pull = f"ti.xcom_pull(task_ids='{producer.id}.best')['{source.output}']"
    plain = type_name in ("model", "dataset", "artifact", "string")
    return "{{ " + pull + ("" if plain else " | tojson") + " }}"


def plain(value: str) -> str:
    """A setting's literal text, for a templated field."""
    return keep_final_newline(escape_literal(value))
