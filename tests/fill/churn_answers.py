"""What the fake LLM answers for the churn example's two prose-only steps.

These bodies stand in for a model's answer: the example's lock file and scripts were made by
running `pipespec fill` against the fake OpenAI-compatible server with these answers (model
name `pipespec-fixture`), and a test re-runs that fill and compares byte for byte.
"""

from __future__ import annotations

from typing import Any, TypedDict

MODEL = "pipespec-fixture"


class Answer(TypedDict):
    imports: list[str]
    body: str
    resources: dict[str, Any]
    image: str | None


CLEAN: Answer = {
    "imports": [],
    "body": """\
frame = inputs["data"].copy()
if "customer_id" in frame.columns:
    frame = frame.drop_duplicates(subset=["customer_id"], keep="last")
else:
    frame = frame.drop_duplicates()
numeric = frame.select_dtypes(include="number").columns
frame[numeric] = frame[numeric].fillna(frame[numeric].median())
return {"data": frame}
""",
    "resources": {"cpu": 1, "memory": "2Gi"},
    "image": None,
}

FEATURES: Answer = {
    "imports": [
        "from sklearn.model_selection import train_test_split",
        "from sklearn.preprocessing import StandardScaler",
    ],
    "body": """\
frame = inputs["data"].copy()
label = "label" if "label" in frame.columns else frame.columns[-1]
target = frame.pop(label)
for column in ("customer_id",):
    if column in frame.columns:
        frame = frame.drop(columns=[column])
categorical = frame.select_dtypes(exclude="number").columns.tolist()
frame = pd.get_dummies(frame, columns=categorical, dtype=float)
frame[frame.columns] = StandardScaler().fit_transform(frame)
frame[label] = target.to_numpy()
train, rest = train_test_split(frame, test_size=0.3, random_state=42)
validation, test = train_test_split(rest, test_size=0.5, random_state=42)
return {"train": train, "validation": validation, "test": test}
""",
    "resources": {"cpu": 2, "memory": "4Gi"},
    "image": None,
}

ANSWERS: dict[str, Answer] = {"clean": CLEAN, "features": FEATURES}
