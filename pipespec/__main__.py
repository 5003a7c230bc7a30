from pipespec.cli import run

run()
