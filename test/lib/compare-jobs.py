#!/usr/bin/env python3
"""compare-jobs.py JCICD_DIR JJB_DIR: are the jobs jcicd generated the jobs
Jenkins Job Builder generated from the same definitions?

Both directories hold <job>/config.xml (jcicd jobs generate, jenkins-jobs
test --config-xml).  Each pair is compared in Canonical XML (Python's own
C14N 2.0 implementation, independent of jcicd's libxml2 one) after dropping
indentation, and after the justified differences below, each of which is
listed with its reason.  Prints one line per job ("same" or a diff) and exits
1 when a job differs or exists on one side only.
"""
import difflib
import os
import re
import sys
import xml.etree.ElementTree as ET

# Every difference left between the two generators, and why it is right.
JUSTIFIED = [
    ("description marker",
     "the end of every description says who manages the job: JJB writes "
     "'<!-- Managed by Jenkins Job Builder -->', jcicd '<!-- Managed by jcicd (job set NAME) -->'. "
     "jcicd names its set so that `jobs sync --delete-old` only ever deletes its own set's jobs "
     "(JJB's --delete-old deletes every JJB-managed job on the server).",
     lambda root: [mark(d) for d in root.iter("description")]),
]

MARKERS = re.compile(r"<!-- Managed by (Jenkins Job Builder|jcicd \(job set [^)]*\)) -->$")


def mark(desc):
    if desc.text:
        desc.text = MARKERS.sub("<!-- Managed by GENERATOR -->", desc.text)


def strip_indentation(e):
    if len(e):
        if e.text is not None and not e.text.strip():
            e.text = None
        for c in e:
            if c.tail is not None and not c.tail.strip():
                c.tail = None
            strip_indentation(c)


def canonical(path):
    root = ET.parse(path).getroot()
    strip_indentation(root)
    for _, _, fix in JUSTIFIED:
        fix(root)
    return ET.canonicalize(ET.tostring(root, encoding="unicode"))


def pretty(c14n):
    root = ET.fromstring(c14n)
    ET.indent(root)
    return ET.tostring(root, encoding="unicode").splitlines()


def jobs(top):
    out = {}
    for d, _, files in os.walk(top):
        if "config.xml" in files:
            out[os.path.relpath(d, top)] = os.path.join(d, "config.xml")
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    a, b = jobs(sys.argv[1]), jobs(sys.argv[2])
    for name, why, _ in JUSTIFIED:
        print("# justified difference, %s: %s" % (name, why))
    bad = 0
    for name in sorted(set(a) | set(b)):
        if name not in b:
            print("only jcicd made %s" % name)
            bad += 1
            continue
        if name not in a:
            print("only JJB made %s" % name)
            bad += 1
            continue
        ca, cb = canonical(a[name]), canonical(b[name])
        if ca == cb:
            print("same %s" % name)
            continue
        bad += 1
        print("differs %s:" % name)
        for line in difflib.unified_diff(pretty(cb), pretty(ca), "jjb/" + name, "jcicd/" + name, lineterm=""):
            print("  " + line)
    print("%d jobs, %d differ" % (len(set(a) | set(b)), bad))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
