"""The static column check (pipespec/fill/columns.py): literal column names read from an
input's frame must be declared (or created by the body); inputs must exist."""

from __future__ import annotations

import pytest

from pipespec.fill.columns import column_problems
from pipespec.fill.data_shape import DataShape

ORDERS = {"customer_id": "int", "country": "string", "amount_eur": "float"}
SHAPE = DataShape(inputs={"orders": ORDERS}, outputs={"totals": None})


def test_an_undeclared_column_is_refused_with_the_declared_ones() -> None:
    body = 'frame = inputs["orders"]\ntotal = frame["amount"].sum()\nreturn {"totals": frame}\n'
    assert column_problems(SHAPE, body) == [
        "PS520: line 2 reads column 'amount' of input 'orders', which does not declare it "
        "(did you mean 'amount_eur'?); its columns are: customer_id (int), country (string), "
        "amount_eur (float)"
    ]


@pytest.mark.parametrize(
    "read",
    [
        'inputs["orders"]["amount"]',
        'frame[["country", "amount"]]',
        'frame.loc[:, "amount"]',
        'frame.loc[frame.index > 2, ["amount"]]',
        'frame.get("amount")',
        'frame.pop("amount")',
        'frame.groupby("amount")',
        'frame.groupby("country")["amount"].sum()',
        'frame.groupby("country")[["amount"]]',
        'frame.groupby(by=["country", "amount"])',
        'frame.sort_values("amount")',
        'frame.set_index(keys="amount")',
        'frame.drop(columns=["amount"])',
        'frame.drop_duplicates(subset=["amount"])',
        'frame.dropna(subset="amount")',
        'frame.rename(columns={"amount": "total"})',
        'pd.get_dummies(frame, columns=["amount"])',
        'inputs["orders"].copy()["amount"]',
    ],
)
def test_each_way_of_reading_a_column_is_checked(read: str) -> None:
    body = f'frame = inputs["orders"].copy()\nx = {read}\nreturn {{"totals": frame}}\n'
    problems = column_problems(SHAPE, body)
    assert len(problems) == 1 and "reads column 'amount' of input 'orders'" in problems[0]


@pytest.mark.parametrize(
    "body",
    [
        # declared columns, by every route
        'f = inputs["orders"]\nreturn {"totals": f.groupby("country")[["amount_eur"]].sum()}',
        'f = inputs["orders"]\nreturn {"totals": f.loc[:, ["country", "amount_eur"]]}',
        # columns the body creates, read before or after (order is not tracked)
        'f = inputs["orders"].copy()\nf["total"] = f["amount_eur"]\n'
        'return {"totals": f[["total"]]}',
        'f = inputs["orders"].copy()\nf.insert(0, "k", 1)\nreturn {"totals": f.sort_values("k")}',
        'f = inputs["orders"].assign(net=1)\nreturn {"totals": f.get("net")}',
        # not certainly the input's frame: left to the trial run
        'f = inputs["orders"]\nf = f[f["country"] == "fr"]\nreturn {"totals": f["amount"]}',
        'f = inputs["orders"].merge(inputs["orders"], on="country")\nreturn {"totals": f["x"]}',
        'f = inputs["orders"]\nf.rename(columns=str.lower, inplace=True)\n'
        'return {"totals": f["a"]}',
        'f = inputs["orders"]\nf.columns = ["a", "b", "c"]\nreturn {"totals": f[["a"]]}',
        'f = inputs["orders"]\ng = f.apply(lambda f: f["zz"], axis=1)\nreturn {"totals": f}',
        'name = "amo" + "unt"\nreturn {"totals": inputs["orders"][name]}',
        # renamed to: the new name exists afterwards
        'f = inputs["orders"].rename(columns={"amount_eur": "a"})\nreturn {"totals": f["a"]}',
    ],
)
def test_declared_created_or_uncertain_columns_pass(body: str) -> None:
    assert column_problems(SHAPE, body) == []


def test_an_input_the_step_does_not_have_is_refused_even_without_declarations() -> None:
    shape = DataShape(inputs={"data": None}, outputs={"data": None})
    body = 'frame = inputs["raw"]\nreturn {"data": frame}\n'
    assert column_problems(shape, body) == [
        "PS520: line 1 reads inputs['raw'], but the step's inputs are: data"
    ]


def test_without_declarations_columns_are_not_checked() -> None:
    shape = DataShape(inputs={"data": None}, outputs={"data": None})
    assert column_problems(shape, 'return {"data": inputs["data"][["anything"]]}') == []


def test_a_body_that_does_not_parse_is_left_to_the_policy() -> None:
    assert column_problems(SHAPE, "return {") == []
