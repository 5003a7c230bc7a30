# Written by `pipespec fill` for step 'features' of pipeline.yaml
# (llm:pipespec-fixture, prompt fill-v1). pipespec wrote the frame
# (arguments, reading and writing artifacts); the model wrote `transform`. Review it like
# any code: the lock file pins this file's hash, so an edit needs `pipespec fill` again.
from __future__ import annotations

import argparse
import pathlib

import pandas as pd
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

DESCRIPTION = 'One-hot encode categoricals, scale numerics, split train/validation/test'
OUTPUTS = ['test', 'train', 'validation']


def transform(inputs: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
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


def _read(path: str) -> pd.DataFrame:
    """A CSV file, or every CSV file in a directory (an artifact written by another step)."""
    target = pathlib.Path(path)
    if target.is_dir():
        files = sorted(target.rglob("*.csv"))
        if not files:
            raise SystemExit(f"no CSV files in {path}")
        return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return pd.read_csv(target)


def _write(frame: pd.DataFrame, path: str) -> None:
    """An artifact is a directory; the frame goes to data.csv inside it."""
    target = pathlib.Path(path)
    target.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target / "data.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument('--input-data', required=True)
    parser.add_argument('--output-test', required=True)
    parser.add_argument('--output-train', required=True)
    parser.add_argument('--output-validation', required=True)
    args = parser.parse_args()
    outputs = transform({'data': _read(args.input_data)})
    missing = sorted(set(OUTPUTS) - set(outputs))
    if missing:
        raise SystemExit(f"transform() returned no frame for: {', '.join(missing)}")
    _write(outputs['test'], args.output_test)
    _write(outputs['train'], args.output_train)
    _write(outputs['validation'], args.output_validation)


if __name__ == "__main__":
    main()
