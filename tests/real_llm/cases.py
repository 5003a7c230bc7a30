"""Six prose-only transform steps with declared columns, each with a small input and a
check that the filled script gives the described result (not only that it runs).

The inputs are chosen so the obvious wrong reading fails: `dropna()` over every column
drops a row whose amount is present, a split that is not 80/20 or loses rows fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

Check = Callable[[dict[str, pd.DataFrame], dict[str, pd.DataFrame]], str | None]


@dataclass(frozen=True)
class Case:
    step: str
    description: str
    inputs: dict[str, dict[str, str]]  # input name -> declared columns
    outputs: dict[str, dict[str, str]]  # output name -> declared columns
    data: dict[str, str]  # input name -> CSV text
    check: Check  # (inputs, outputs) -> None when right, else what is wrong


ORDERS = {"order_id": "int", "customer_id": "int", "amount": "float", "region": "string"}
ORDERS_CSV = """order_id,customer_id,amount,region
1,10,12.5,eu
2,11,,us
3,10,7.25,
4,12,30.0,apac
5,11,5.0,eu
6,13,,eu
7,12,2.5,us
8,10,1.0,eu
"""


def _drop_missing(ins: dict[str, pd.DataFrame], outs: dict[str, pd.DataFrame]) -> str | None:
    want = ins["orders"][ins["orders"]["amount"].notna()]
    got = outs["orders"]
    if sorted(got["order_id"]) != sorted(want["order_id"]):
        return f"kept orders {sorted(got['order_id'])}, want {sorted(want['order_id'])}"
    return None


def _total(ins: dict[str, pd.DataFrame], outs: dict[str, pd.DataFrame]) -> str | None:
    got = outs["lines"].sort_values("line_id").reset_index(drop=True)
    src = ins["lines"].sort_values("line_id").reset_index(drop=True)
    if len(got) != len(src) or "total" not in got:
        return f"columns {list(got.columns)}, {len(got)} rows"
    if not ((got["total"] - src["price"] * src["quantity"]).abs() < 1e-9).all():
        return "total is not price times quantity"
    return None


def _eu_only(ins: dict[str, pd.DataFrame], outs: dict[str, pd.DataFrame]) -> str | None:
    want = ins["orders"][ins["orders"]["region"] == "eu"]
    got = outs["orders"]
    if sorted(got["order_id"]) != sorted(want["order_id"]):
        return f"kept orders {sorted(got['order_id'])}, want {sorted(want['order_id'])}"
    return None


def _emails(ins: dict[str, pd.DataFrame], outs: dict[str, pd.DataFrame]) -> str | None:
    want = sorted(ins["users"]["email"].str.strip().str.lower())
    got = sorted(outs["users"]["email"])
    return None if got == want else f"emails {got}, want {want}"


def _spend(ins: dict[str, pd.DataFrame], outs: dict[str, pd.DataFrame]) -> str | None:
    want = ins["orders"].groupby("customer_id")["amount"].sum()
    got = outs["spend"]
    if not {"customer_id", "total_spend"} <= set(got.columns):
        return f"columns {list(got.columns)}"
    have = got.set_index("customer_id")["total_spend"].sort_index()
    if list(have.index) != list(want.index) or not ((have - want).abs() < 1e-9).all():
        return f"totals {have.to_dict()}, want {want.to_dict()}"
    return None


def _split(ins: dict[str, pd.DataFrame], outs: dict[str, pd.DataFrame]) -> str | None:
    train, test = outs["train"], outs["test"]
    ids = sorted(ins["events"]["event_id"])
    both = sorted([*train["event_id"], *test["event_id"]])
    if both != ids:
        return f"train and test hold {both}, want each of {ids} once"
    if not 7 <= len(train) <= 9:
        return f"train has {len(train)} of 10 rows, want about 8"
    return None


EVENTS = {"event_id": "int", "value": "float"}
EVENTS_CSV = "event_id,value\n" + "".join(f"{i},{i * 1.5}\n" for i in range(1, 11))

CASES: tuple[Case, ...] = (
    Case(
        "drop_missing",
        "Drop the rows whose amount is missing; keep every other row as it is",
        {"orders": ORDERS},
        {"orders": ORDERS},
        {"orders": ORDERS_CSV},
        _drop_missing,
    ),
    Case(
        "line_total",
        "Add a column total equal to price times quantity",
        {"lines": {"line_id": "int", "price": "float", "quantity": "int"}},
        {"lines": {"line_id": "int", "price": "float", "quantity": "int", "total": "float"}},
        {"lines": "line_id,price,quantity\n1,2.5,4\n2,10.0,1\n3,0.5,10\n"},
        _total,
    ),
    Case(
        "eu_orders",
        "Keep only the orders whose region is eu",
        {"orders": ORDERS},
        {"orders": ORDERS},
        {"orders": ORDERS_CSV},
        _eu_only,
    ),
    Case(
        "clean_emails",
        "Lowercase the email column and strip the spaces around each address",
        {"users": {"user_id": "int", "email": "string"}},
        {"users": {"user_id": "int", "email": "string"}},
        {"users": "user_id,email\n1,  Ann@Example.COM \n2,bob@example.com\n3, CARL@x.org\n"},
        _emails,
    ),
    Case(
        "spend_per_customer",
        "Sum the amount per customer: one row per customer_id with the sum in a column total_spend",
        {"orders": ORDERS},
        {"spend": {"customer_id": "int", "total_spend": "float"}},
        {"orders": ORDERS_CSV},
        _spend,
    ),
    Case(
        "split",
        "Split the rows at random, with a fixed seed, into train (80 percent of the rows) "
        "and test (the other 20 percent)",
        {"events": EVENTS},
        {"train": EVENTS, "test": EVENTS},
        {"events": EVENTS_CSV},
        _split,
    ),
)


def spec_text(case: Case, *, deadline: str) -> str:
    """The spec: a `load` step of the user's own writing the declared inputs, then the step
    described in prose."""

    def declared(io: dict[str, dict[str, str]]) -> str:
        return "".join(
            f"      {name}: {{type: dataset, columns: {{"
            + ", ".join(f"{c}: {t}" for c, t in cols.items())
            + "}}\n"
            for name, cols in io.items()
        )

    load_outputs = " ".join(f'"${{outputs.{n}}}"' for n in case.inputs)
    inputs = ", ".join(f"{n}: load.{n}" for n in case.inputs)
    return (
        "pipespec: 1\n"
        f"name: real-llm-{case.step.replace('_', '-')}\n"
        'defaults: {image: "python:3.12-slim"}\n'
        f"fill: {{deadline: {deadline}}}\n"
        "steps:\n"
        "  load:\n"
        "    kind: container\n"
        f"    command: [python, load.py, {load_outputs}]\n"
        "    outputs:\n" + declared(case.inputs) + f"  {case.step}:\n"
        "    kind: transform\n"
        f"    description: {case.description!r}\n"
        f"    inputs: {{{inputs}}}\n"
        "    outputs:\n" + declared(case.outputs)
    )
