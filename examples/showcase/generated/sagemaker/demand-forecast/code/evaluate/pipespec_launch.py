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
