"""pipespec standard script: run a SQL query and write the result as a CSV dataset.

Runs inside the step's container (needs pandas and SQLAlchemy with the database's driver).
The connection URL comes from the environment (PIPESPEC_DATABASE_URL, set from a secret),
never from an argument, so it does not show in logs or task definitions. Named query
parameters (:name) are bound from --param name=value, never pasted into the SQL text.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--query", required=True, help="SQL, with :name parameters")
    parser.add_argument("--out", required=True, help="output dataset directory (data.csv inside)")
    parser.add_argument(
        "--param", action="append", default=[], help="name=value for a :name parameter"
    )
    parser.add_argument("--url-env", default="PIPESPEC_DATABASE_URL")
    args = parser.parse_args(argv)

    url = os.environ.get(args.url_env)
    if not url:
        print(f"error: the environment variable {args.url_env} is not set", file=sys.stderr)
        return 2
    params: dict[str, str] = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"error: --param takes name=value, got {item!r}", file=sys.stderr)
            return 2
        params[name] = value

    import pandas as pd
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            frame = pd.read_sql_query(sqlalchemy.text(args.query), connection, params=params)
    finally:
        engine.dispose()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "data.csv", index=False)
    print(f"wrote {len(frame)} rows to {out / 'data.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
