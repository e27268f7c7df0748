#!/usr/bin/env python3
"""snapshot-check.py - checks the invariants of a snapshot store and its
publish root, from the outside (SQLite database read-only, file system):

  * the database passes PRAGMA integrity_check;
  * snapshot numbers are unique, positive, below the counter; once seen, a
    number keeps its content (--memory FILE remembers index hashes);
  * every visible tree snapshots/N is complete: each file its Release lists
    has that hash, each package its Packages lists exists, has its SHA256 and
    is a hard link to the pool;
  * every pointer symlink names a complete tree;
  * with --settled (after a normal re-run): no snapshot is left recorded or
    pruning, published snapshots have trees, pruned ones have none, the
    symlinks match the database, and nothing temporary is left.

    snapshot-check.py STATE_DIR PUBLISH_ROOT [--settled] [--memory FILE]
Prints problems and exits 1, or prints "consistent: ..." and exits 0.
"""
import hashlib
import json
import os
import sqlite3
import sys


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def paragraphs(text):
    para = {}
    last = None
    for line in text.splitlines():
        if not line.strip():
            if para:
                yield para
            para, last = {}, None
        elif line[0] in " \t":
            para[last] += "\n" + line
        else:
            k, _, v = line.partition(":")
            para[k] = v.strip()
            last = k
    if para:
        yield para


def check_tree(root, n, state_dir, problems):
    tree = os.path.join(root, "snapshots", str(n))
    dists = os.path.join(tree, "dists")
    suites = os.listdir(dists) if os.path.isdir(dists) else []
    if len(suites) != 1:
        problems.append("snapshot %d: expected one suite under dists/, found %r" % (n, suites))
        return 0
    d = os.path.join(dists, suites[0])
    rel = open(os.path.join(d, "Release")).read()
    fields = next(paragraphs(rel))
    files = 0
    for line in fields.get("SHA256", "").splitlines():
        parts = line.split()
        if len(parts) != 3:
            continue
        h, size, path = parts
        p = os.path.join(d, path)
        if not os.path.exists(p):
            problems.append("snapshot %d: %s listed in Release is missing" % (n, path))
        elif sha256(p) != h or os.path.getsize(p) != int(size):
            problems.append("snapshot %d: %s does not match its Release" % (n, path))
        files += 1
        if path.endswith("/Packages"):
            for para in paragraphs(open(p).read()):
                f = os.path.join(tree, para["Filename"])
                files += 1
                if not os.path.exists(f):
                    problems.append("snapshot %d: package %s is missing" % (n, para["Filename"]))
                    continue
                if sha256(f) != para["SHA256"]:
                    problems.append("snapshot %d: package %s has the wrong hash" % (n, para["Filename"]))
                pool = os.path.join(state_dir, "pool", "sha256", para["SHA256"][:2], para["SHA256"])
                if os.path.exists(pool) and os.stat(pool).st_ino != os.stat(f).st_ino:
                    problems.append("snapshot %d: %s is not a hard link to the pool" % (n, para["Filename"]))
    if files == 0:
        problems.append("snapshot %d: Release lists no files" % n)
    return files


def main():
    args = sys.argv[1:]
    settled = "--settled" in args
    memory = None
    if "--memory" in args:
        memory = args[args.index("--memory") + 1]
    state_dir, root = args[0], args[1]
    problems = []
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(state_dir, "jcicd.db"), uri=True)
    ic = db.execute("PRAGMA integrity_check").fetchone()[0]
    if ic != "ok":
        problems.append("integrity_check: %s" % ic)
    counter = db.execute("SELECT last_number FROM snapshot_counter").fetchone()[0]
    rows = db.execute("SELECT number, state FROM snapshots ORDER BY number").fetchall()
    states = dict(rows)
    if rows and max(states) > counter:
        problems.append("snapshot %d is above the counter %d" % (max(states), counter))
    idx = {}
    for n, comp, arch, sha in db.execute(
            "SELECT number, component, architecture, packages_sha256 FROM snapshot_indices"):
        idx.setdefault(str(n), {})["%s/%s" % (comp, arch)] = sha
    pointers = dict(db.execute("SELECT name, number FROM snapshot_pointers").fetchall())

    if memory:
        seen = json.load(open(memory)) if os.path.exists(memory) else {}
        for n, content in idx.items():
            if n in seen and seen[n] != content:
                problems.append("snapshot %s changed content: %r -> %r" % (n, seen[n], content))
            seen.setdefault(n, content)
        with open(memory + ".tmp", "w") as f:
            json.dump(seen, f)
        os.rename(memory + ".tmp", memory)

    snaps = os.path.join(root, "snapshots")
    visible = sorted(int(x) for x in os.listdir(snaps) if x.isdigit()) if os.path.isdir(snaps) else []
    files = 0
    for n in visible:
        if n not in states:
            problems.append("tree snapshots/%d has no snapshot in the database" % n)
            continue
        files += check_tree(root, n, state_dir, problems)
    for entry in os.listdir(root) if os.path.isdir(root) else []:
        p = os.path.join(root, entry)
        if os.path.islink(p):
            target = os.readlink(p)
            if not os.path.isfile(os.path.join(p, "dists")) and not os.path.isdir(os.path.join(p, "dists")):
                problems.append("pointer %s -> %s names no complete tree" % (entry, target))

    if settled:
        for n, st in rows:
            if st in ("recorded", "pruning"):
                problems.append("snapshot %d is still %s" % (n, st))
            if st == "published" and n not in visible:
                problems.append("published snapshot %d has no tree" % n)
            if st == "pruned" and n in visible:
                problems.append("pruned snapshot %d still has a tree" % n)
        for name, n in pointers.items():
            p = os.path.join(root, name)
            if not os.path.islink(p) or os.readlink(p) != "snapshots/%d" % n:
                problems.append("pointer %s should be snapshots/%d, is %r" % (
                    name, n, os.readlink(p) if os.path.islink(p) else None))
            if states.get(n) != "published":
                problems.append("pointer %s names snapshot %d, which is %s" % (name, n, states.get(n)))
        leftovers = [x for x in os.listdir(snaps) if x.startswith(".")] if os.path.isdir(snaps) else []
        leftovers += [x for x in os.listdir(root) if x.startswith(".")]
        tmp = os.path.join(state_dir, "pool", "tmp")
        leftovers += ["pool/tmp/" + x for x in os.listdir(tmp)] if os.path.isdir(tmp) else []
        if leftovers:
            problems.append("temporary files left: %r" % leftovers)

    if problems:
        for p in problems:
            print("PROBLEM: " + p)
        sys.exit(1)
    print("consistent: %d snapshots (%s), %d trees, %d files checked, pointers %s" % (
        len(rows), " ".join("%d:%s" % r for r in rows), len(visible), files,
        " ".join("%s=%d" % kv for kv in sorted(pointers.items()))))


if __name__ == "__main__":
    main()
