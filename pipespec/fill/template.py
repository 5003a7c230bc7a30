"""Scripts the LLM helps write: pipespec owns the frame, the model writes one function body.

The frame (argument parsing, reading inputs, writing outputs) is fixed here; the model
chooses import lines from `IMPORT_MENU` and writes the body of `transform(inputs) ->
outputs`. policy.py checks the answer; a script that fails is rejected, never written.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

from pipespec.fill.data_shape import DataShape
from pipespec.pysafe import py_literal, python_header

# The import lines the model may choose (the answer's `imports` is a list of these exact
# strings; pipespec writes the lines). Modules come in under an alias whose attributes
# policy.py allow-lists; everything else is a named class or function.
IMPORT_MENU: tuple[str, ...] = (
    "import math",
    "import numpy as np",
    "import re",
    "from datetime import date, datetime, timedelta",
    "from scipy.stats import boxcox, kurtosis, rankdata, skew, yeojohnson, zscore",
    "from sklearn.cluster import KMeans",
    "from sklearn.decomposition import PCA, TruncatedSVD",
    "from sklearn.feature_selection import SelectKBest, VarianceThreshold",
    "from sklearn.impute import KNNImputer, SimpleImputer",
    "from sklearn.model_selection import train_test_split",
    "from sklearn.preprocessing import KBinsDiscretizer",
    "from sklearn.preprocessing import LabelEncoder",
    "from sklearn.preprocessing import MinMaxScaler",
    "from sklearn.preprocessing import OneHotEncoder",
    "from sklearn.preprocessing import OrdinalEncoder",
    "from sklearn.preprocessing import PolynomialFeatures",
    "from sklearn.preprocessing import PowerTransformer",
    "from sklearn.preprocessing import QuantileTransformer",
    "from sklearn.preprocessing import RobustScaler",
    "from sklearn.preprocessing import StandardScaler",
)
# The frame's own import lines (the body may use `pd`; the rest serve the frame).
FRAME_IMPORTS = frozenset(
    {
        "from __future__ import annotations",
        "import argparse",
        "import pathlib",
        "import pandas as pd",
    }
)


@dataclass(frozen=True)
class ScriptFrame:
    step_id: str
    description: str
    inputs: tuple[str, ...]  # dataset input names
    outputs: tuple[str, ...]  # dataset output names
    spec_file: str
    source: str  # e.g. llm:model-name
    prompt_version: str
    # The declared columns of the inputs and outputs: for the checks and the trial run
    # (the script's text does not depend on them).
    data: DataShape = field(default_factory=DataShape)


def cli_flag(kind: str, name: str) -> str:
    return f"--{kind}-{name.replace('_', '-')}"


def assemble(frame: ScriptFrame, imports: list[str], body: str) -> str:
    """The complete script text (not yet checked: call `policy.check_answer`).

    `imports` are menu lines only: pipespec writes the import lines, never the model.
    """
    unknown = [line for line in imports if line not in IMPORT_MENU]
    if unknown:
        raise ValueError(f"imports not on the menu: {unknown!r}")
    body_text = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ") or "    pass"
    lines = sorted(set(imports))
    import_text = "".join(f"{line}\n" for line in lines)
    arguments = "\n".join(
        f"    parser.add_argument({py_literal(cli_flag(kind, name))}, required=True)"
        for kind, names in (("input", frame.inputs), ("output", frame.outputs))
        for name in names
    )
    read = ", ".join(f"{py_literal(name)}: _read(args.input_{name})" for name in frame.inputs)
    writes = "\n".join(
        f"    _write(outputs[{py_literal(name)}], args.output_{name})" for name in frame.outputs
    )
    header = python_header(
        [
            f"Written by `pipespec fill` for step {frame.step_id!r} of {frame.spec_file}",
            f"({frame.source}, prompt {frame.prompt_version}). pipespec wrote the frame",
            "(arguments, reading and writing artifacts); the model wrote `transform`. Review it",
            "like any code: the lock file pins this file's hash, so an edit needs",
            "`pipespec fill` again.",
        ]
    )
    return (
        header
        + f'''from __future__ import annotations

import argparse
import pathlib

import pandas as pd
{import_text}
DESCRIPTION = {py_literal(frame.description)}
OUTPUTS = {py_literal(list(frame.outputs))}


def transform(inputs: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
{body_text}


def _read(path: str) -> pd.DataFrame:
    """A CSV file, or every CSV file in a directory (an artifact written by another step)."""
    target = pathlib.Path(path)
    if target.is_dir():
        files = sorted(target.rglob("*.csv"))
        if not files:
            raise SystemExit(f"no CSV files in {{path}}")
        return pd.concat([pd.read_csv(f) for f in files], ignore_index=True)
    return pd.read_csv(target)


def _write(frame: pd.DataFrame, path: str) -> None:
    """An artifact is a directory; the frame goes to data.csv inside it."""
    target = pathlib.Path(path)
    target.mkdir(parents=True, exist_ok=True)
    frame.to_csv(target / "data.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
{arguments}
    args = parser.parse_args()
    outputs = transform({{{read}}})
    missing = sorted(set(OUTPUTS) - set(outputs))
    if missing:
        raise SystemExit(f"transform() returned no frame for: {{', '.join(missing)}}")
{writes}


if __name__ == "__main__":
    main()
'''
    )
