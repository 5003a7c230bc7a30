"""The standard SQL ingest script, run for real against a SQLite database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from pipespec.fill.scripts import standard_script


def run_ingest(tmp_path: Path, *args: str, url: str | None) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "ingest_sql.py"
    script.write_text(standard_script("ingest_sql").source)
    env = {k: v for k, v in os.environ.items() if k != "PIPESPEC_DATABASE_URL"}
    if url is not None:
        env["PIPESPEC_DATABASE_URL"] = url
    return subprocess.run(
        [sys.executable, str(script), *args], capture_output=True, text=True, env=env, check=False
    )


def test_query_with_a_bound_parameter_writes_a_dataset(tmp_path: Path) -> None:
    db = tmp_path / "events.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE events (customer_id INTEGER, day TEXT, spend REAL)")
        con.executemany(
            "INSERT INTO events VALUES (?, ?, ?)",
            [(1, "2024-01-01", 3.5), (2, "2024-01-01", 1.0), (3, "2024-01-02", 9.0)],
        )
    out = tmp_path / "raw"
    proc = run_ingest(
        tmp_path,
        "--query",
        "SELECT customer_id, spend FROM events WHERE day = :day ORDER BY customer_id",
        "--out",
        str(out),
        "--param",
        "day=2024-01-01",
        url=f"sqlite:///{db}",
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "data.csv").read_text().splitlines() == ["customer_id,spend", "1,3.5", "2,1.0"]


def test_parameters_are_bound_not_pasted(tmp_path: Path) -> None:
    db = tmp_path / "e.db"
    with sqlite3.connect(db) as con:
        con.execute("CREATE TABLE t (x TEXT)")
        con.execute("INSERT INTO t VALUES ('a')")
    proc = run_ingest(
        tmp_path,
        "--query",
        "SELECT x FROM t WHERE x = :v",
        "--out",
        str(tmp_path / "o"),
        "--param",
        "v=a' OR '1'='1",
        url=f"sqlite:///{db}",
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "data.csv").read_text().splitlines() == ["x"]


def test_missing_connection_url_is_a_clear_error(tmp_path: Path) -> None:
    proc = run_ingest(tmp_path, "--query", "SELECT 1", "--out", str(tmp_path / "o"), url=None)
    assert proc.returncode == 2
    assert "PIPESPEC_DATABASE_URL is not set" in proc.stderr
