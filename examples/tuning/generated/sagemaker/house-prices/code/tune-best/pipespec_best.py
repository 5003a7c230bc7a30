import os, sys, tarfile

folder, pairs = sys.argv[1], sys.argv[2:]
archives = sorted(n for n in os.listdir(folder) if n.endswith(".tar.gz"))
if not archives:
    sys.exit("pipespec: no output.tar.gz of the best training job in " + folder)
with tarfile.open(os.path.join(folder, archives[0])) as archive:
    files = {}
    for found in archive.getmembers():
        if found.isfile():
            files[found.name[2:] if found.name.startswith("./") else found.name] = found
    for member, target in zip(pairs[::2], pairs[1::2]):
        if member not in files:
            sys.exit("pipespec: no file " + member + " in " + archives[0])
        source = archive.extractfile(files[member])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(source.read())
        print("pipespec: best trial's " + member + " -> " + target)
