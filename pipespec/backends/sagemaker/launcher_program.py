"""The launcher a SageMaker job runs before a step's command when the command needs
something at start (``launch.py`` says when). A fixed program: what differs per step is the
plan file it reads (data), never its text.

``python3 pipespec_launch.py launch.json``:

1. extracts each ``unpack`` folder's ``*.tar.gz`` in place (a training job's model is
   ``model.tar.gz``), refusing members that would land outside the folder;
2. reads each secret's value from Secrets Manager with the job's own role (boto3, region
   from the ARN) into the env name the step asked for;
3. builds argv and env from their segments: text, a parameter's env var, a reported value
   (a JSON file: a string as itself, anything else as compact JSON) or a fan-in (the JSON
   list of several files' values);
4. replaces itself with the command (``os.execvpe``), so its exit status is the job's.
"""

from __future__ import annotations

# What the launcher and the tuning trial runner both do (tune_programs.py): read a JSON
# file, write a value as text, unpack a model archive safely.
HELPERS = """\
import json, os, subprocess, sys, tarfile


def unpack(folder):
    root = os.path.realpath(folder)
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".tar.gz"):
            continue
        with tarfile.open(os.path.join(folder, name)) as archive:
            for member in archive.getmembers():
                where = os.path.realpath(os.path.join(root, member.name))
                inside = os.path.commonpath([root, where]) == root
                if not inside or not (member.isfile() or member.isdir()):
                    sys.exit("pipespec: refusing " + repr(member.name) + " in " + name)
            archive.extractall(root)


def read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def text(value):
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


"""

LAUNCHER = (
    HELPERS
    + """\
def build(segments):
    parts = []
    for seg in segments:
        if "text" in seg:
            parts.append(seg["text"])
        elif "env" in seg:
            parts.append(os.environ[seg["env"]])
        elif "file" in seg:
            parts.append(text(read(seg["file"])))
        else:
            parts.append(text([read(p) for p in seg["files"]]))
    return "".join(parts)


def secret(arn):
    import boto3

    client = boto3.client("secretsmanager", region_name=arn.split(":")[3])
    return client.get_secret_value(SecretId=arn)["SecretString"]


plan = read(sys.argv[1])
for folder in plan["unpack"]:
    unpack(folder)
env = dict(os.environ)
for name, segments in plan["env"].items():
    env[name] = build(segments)
for name, arn in plan["secrets"].items():
    env[name] = secret(arn)
argv = [build(segments) for segments in plan["argv"]]
os.execvpe(argv[0], argv, env)
"""
)
