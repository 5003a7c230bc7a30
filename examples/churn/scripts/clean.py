# Written by `pipespec fill` for step 'clean' of pipeline.yaml
# (llm:pipespec-fixture, prompt fill-v1). pipespec wrote the frame
# (arguments, reading and writing artifacts); the model wrote `transform`. Review it like
# any code: the lock file pins this file's hash, so an edit needs `pipespec fill` again.
from __future__ import annotations

import argparse
import pathlib

import pandas as pd

DESCRIPTION = 'Drop duplicate customers and impute missing numeric values with the median'
OUTPUTS = ['data']


def transform(inputs: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    frame = inputs["data"].copy()
    if "customer_id" in frame.columns:
        frame = frame.drop_duplicates(subset=["customer_id"], keep="last")
    else:
        frame = frame.drop_duplicates()
    numeric = frame.select_dtypes(include="number").columns
    frame[numeric] = frame[numeric].fillna(frame[numeric].median())
    return {"data": frame}


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
    parser.add_argument('--output-data', required=True)
    args = parser.parse_args()
    outputs = transform({'data': _read(args.input_data)})
    missing = sorted(set(OUTPUTS) - set(outputs))
    if missing:
        raise SystemExit(f"transform() returned no frame for: {', '.join(missing)}")
    _write(outputs['data'], args.output_data)


if __name__ == "__main__":
    main()
