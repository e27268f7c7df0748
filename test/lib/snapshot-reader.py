#!/usr/bin/env python3
"""snapshot-reader.py - reads a published pointer over and over while it is
being switched, the way a client does: Release first, then the indices it
lists (by hash, as apt does with Acquire-By-Hash, and by name), and checks
that every read is whole and matches.

    snapshot-reader.py POINTER_DIR STOP_FILE
Reads until STOP_FILE exists (at most 10 minutes).  Prints {"reads": N, "by_hash": N, "by_name_current": N, "errors": [...]}.
"""
import hashlib
import json
import os
import sys
import time


def sha(data):
    return hashlib.sha256(data).hexdigest()


def main():
    base, stop = sys.argv[1], sys.argv[2]
    dist = os.path.join(base, "dists", "stable")
    stats = {"reads": 0, "by_hash": 0, "by_name_current": 0, "errors": []}
    end = time.time() + 600
    while time.time() < end and not os.path.exists(stop):
        try:
            release = open(os.path.join(dist, "Release"), "rb").read()
        except OSError as e:
            stats["errors"].append("Release: %s" % e)
            continue
        listed = {}
        in_sha = False
        for line in release.decode().splitlines():
            if line.startswith("SHA256:"):
                in_sha = True
            elif in_sha and line.startswith(" "):
                h, size, path = line.split()
                listed[path] = (h, int(size))
            else:
                in_sha = False
        if "main/binary-amd64/Packages" not in listed:
            stats["errors"].append("Release lists no Packages: %r" % release[:200])
            continue
        for path, (h, size) in listed.items():
            d = os.path.dirname(path)
            try:
                data = open(os.path.join(dist, d, "by-hash", "SHA256", h), "rb").read()
            except OSError as e:
                stats["errors"].append("by-hash %s: %s" % (path, e))
                continue
            if sha(data) != h or len(data) != size:
                stats["errors"].append("by-hash %s does not match" % path)
            stats["by_hash"] += 1
        # by name the index may already belong to the next snapshot, but it
        # must be one whole index, never a mix or a part
        try:
            data = open(os.path.join(dist, "main", "binary-amd64", "Packages"), "rb").read()
            if data and not data.endswith(b"\n\n"):
                stats["errors"].append("Packages read by name is cut short")
            if sha(data) == listed["main/binary-amd64/Packages"][0]:
                stats["by_name_current"] += 1
        except OSError as e:
            stats["errors"].append("Packages: %s" % e)
        stats["reads"] += 1
        time.sleep(0.002)   # leave the CPU to the writer now and then
    stats["errors"] = stats["errors"][:10]
    print(json.dumps(stats))


if __name__ == "__main__":
    main()
