"""Benchmarks for pipespec's Airflow backend (run with ``python -m benchmarks.run_all``)."""
