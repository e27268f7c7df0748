#!/usr/bin/env python3
"""A Jenkins stand-in for jcicd's tests: the REST API that jcicd, python3-jenkins
and `jenkins-jobs update` use, answered the way Jenkins answers it.

Jenkins is not packaged in Debian, so the tests run this instead.  It speaks
the wire format (see test/jenkins/README): createItem, job config.xml GET/POST,
doDelete, enable/disable, api/json of the root, folders, jobs, builds and queue
items (with tree=), build and buildWithParameters (201 + Location), queue
items that turn into builds, consoleText and logText/progressiveText
(X-Text-Size, X-More-Data), stop, crumbIssuer (crumbs bound to the web
session), basic auth with API tokens (no crumb needed) or passwords (crumb
needed for POSTs), pluginManager, the X-Jenkins header, folders.

Builds run for real: freestyle jobs' shell steps run as subprocesses
(`sh -xe` like Jenkins), with the job's parameters and Jenkins' variables in
the environment, in a workspace per job.  After the steps: JUnit results
(UNSTABLE on failures, FAILURE when none were found), PostBuildScript steps
for matching results (teardown on ABORTED), parameterized and plain
downstream triggers, build timeouts (abort or fail), blocking while
downstream/upstream jobs build, one build at a time unless concurrent.
Timer triggers are not fired (tests start those jobs themselves).

A test-only endpoint, /_stand-in/stats, counts requests by method and kind.
Python 3 standard library only.
"""
import argparse
import base64
import fnmatch
import glob
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import shutil
import signal
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

VERSION = "2.426.3"
FREESTYLE = "hudson.model.FreeStyleProject"
FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"
PLUGINS = [
    # shortName, longName, version: what the jobs jcicd generates use
    ("junit", "JUnit Plugin", "1.62"),
    ("parameterized-trigger", "Parameterized Trigger plugin", "2.46"),
    ("build-timeout", "Build Timeout", "1.32"),
    ("timestamper", "Timestamper", "1.26"),
    ("postbuildscript", "PostBuildScript Plugin", "3.2.0"),
    ("cloudbees-folder", "Folders Plugin", "6.858"),
]
UNSAFE = set('?*/\\%!@#$^&|<>[]:;')
RESULT_ORDER = {"SUCCESS": 0, "UNSTABLE": 1, "FAILURE": 2, "NOT_BUILT": 3, "ABORTED": 4}


def now_ms():
    return int(time.time() * 1000)


class HttpError(Exception):
    def __init__(self, status, message, headers=None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


# ---------------------------------------------------------------- the model

class Item:
    """A job or a folder; config is the stored config.xml text."""

    def __init__(self, name, container, config, kind):
        self.name = name
        self.container = container        # the folder holding it (the root for top-level items)
        self.config = config
        self.kind = kind                  # "job" or "folder"
        self.children = {}                # folders
        self.builds = {}                  # number -> Build
        self.next_build = 1
        self.config_writes = 1

    @property
    def full_name(self):
        c = self.container
        return self.name if c is None or c.container is None else c.full_name + "/" + self.name

    def url_path(self):
        return "".join("job/%s/" % urllib.parse.quote(p) for p in self.full_name.split("/"))

    def root(self):
        try:
            return ET.fromstring(self.config)
        except ET.ParseError:
            return ET.Element("project")

    def description(self):
        d = self.root().find("description")
        return d.text if d is not None and d.text else ""

    def disabled(self):
        return flag(self.root(), "disabled")


def flag(root, tag, default=False):
    e = root.find(tag)
    if e is None or e.text is None:
        return default
    return e.text.strip().lower() == "true"


def text_of(e, default=""):
    return e.text if e is not None and e.text is not None else default


class JobSpec:
    """What a freestyle config.xml asks for, read when a build starts."""

    def __init__(self, root):
        self.tag = root.tag
        self.concurrent = flag(root, "concurrentBuild")
        self.block_downstream = flag(root, "blockBuildWhenDownstreamBuilding")
        self.block_upstream = flag(root, "blockBuildWhenUpstreamBuilding")
        self.params = []                  # (name, default)
        for pdp in root.iter("hudson.model.ParametersDefinitionProperty"):
            for d in list(pdp.find("parameterDefinitions") or []):
                name = text_of(d.find("name"))
                default = text_of(d.find("defaultValue"))
                if d.tag.endswith("ChoiceParameterDefinition"):
                    choices = [text_of(s) for s in d.iter("string")]
                    default = choices[0] if choices else ""
                self.params.append((name, default, d.tag))
        self.keep = None
        for lr in root.iter("strategy"):
            if lr.get("class") == "hudson.tasks.LogRotator":
                n = text_of(lr.find("numToKeep"), "-1")
                if n.strip().lstrip("-").isdigit() and int(n) > 0:
                    self.keep = int(n)
        b = root.find("builders")
        self.builders = list(b) if b is not None else []
        p = root.find("publishers")
        self.publishers = list(p) if p is not None else []
        w = root.find("buildWrappers")
        self.wrappers = list(w) if w is not None else []

    def downstream_names(self):
        names = []
        for pub in self.publishers:
            if pub.tag == "hudson.plugins.parameterizedtrigger.BuildTrigger":
                for cfg in pub.iter("hudson.plugins.parameterizedtrigger.BuildTriggerConfig"):
                    names += split_projects(text_of(cfg.find("projects")))
            elif pub.tag == "hudson.tasks.BuildTrigger":
                names += split_projects(text_of(pub.find("childProjects")))
        return names


def split_projects(s):
    return [p.strip() for p in s.split(",") if p.strip()]


class Build:
    def __init__(self, job, number, params, causes, queue_id):
        self.job = job
        self.number = number
        self.params = params              # list of (name, value)
        self.causes = causes
        self.queue_id = queue_id
        self.log = bytearray()
        self.building = True
        self.result = None
        self.timestamp = now_ms()
        self.duration = 0
        self.proc = None
        self.abort_reason = None          # set by stop or a timeout
        self.abort_result = "ABORTED"
        self.tests = None
        self.workspace = None

    def url_path(self):
        return "%s%d/" % (self.job.url_path(), self.number)

    def write(self, text):
        if isinstance(text, str):
            text = text.encode()
        with STATE.lock:
            self.log += text


class QueueItem:
    def __init__(self, qid, job, params, causes, quiet_s):
        self.id = qid
        self.job = job
        self.params = params
        self.causes = causes
        self.since = now_ms()
        self.not_before = time.time() + quiet_s
        self.why = None
        self.left = False
        self.cancelled = False
        self.executable = None


class State:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.home = args.home
        self.executors = args.executors
        self.quiet = args.quiet_period
        self.csrf = not args.no_csrf
        self.user = args.user
        self.tokens = set(args.token or [])
        self.password = args.password
        self.secret = secrets.token_bytes(16)
        self.sessions = set()
        self.session_id = secrets.token_hex(4)
        self.root = Item("", None, "<com.cloudbees.hudson.plugins.folder.Folder/>", "folder")
        self.queue = []                   # waiting QueueItems, FIFO
        self.items = {}                   # id -> QueueItem (also left ones)
        self.next_qid = 1
        self.running = []                 # Builds
        self.stats = {"GET": 0, "POST": 0, "other": 0, "posts": {}}
        self.stopping = False

    # -- items
    def lookup(self, parts):
        """parts: names below the root; None when missing."""
        it = self.root
        for p in parts:
            if it.kind != "folder" or p not in it.children:
                return None
            it = it.children[p]
        return it

    def all_jobs(self, it=None):
        it = it or self.root
        for c in it.children.values():
            if c.kind == "folder":
                yield from self.all_jobs(c)
            else:
                yield c

    def job_by_name(self, name):
        return self.lookup(name.split("/"))

    def save(self, item):
        d = os.path.join(self.home, "jobs", *item.full_name.split("/"))
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.xml"), "w") as f:
            f.write(item.config)

    def forget(self, item):
        shutil.rmtree(os.path.join(self.home, "jobs", *item.full_name.split("/")), ignore_errors=True)


STATE = None


def reserialize(body, what):
    """Jenkins keeps the XML it is given but writes it out again: the
    declaration and some formatting change; the content does not."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError as e:
        raise HttpError(500, "Failed to parse the XML of %s: %s" % (what, e))
    return "<?xml version='1.1' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode")


def color_of(job):
    if job.kind == "folder":
        return None
    if job.disabled():
        return "disabled"
    done = [b for b in job.builds.values() if not b.building]
    running = any(b.building for b in job.builds.values())
    base = "notbuilt"
    if done:
        last = max(done, key=lambda b: b.number)
        base = {"SUCCESS": "blue", "UNSTABLE": "yellow", "FAILURE": "red", "ABORTED": "aborted",
                "NOT_BUILT": "notbuilt"}.get(last.result, "grey")
    return base + ("_anime" if running else "")


# ------------------------------------------------------------- scheduling

def transitive(job, direction):
    """Names of the jobs downstream (or upstream) of job, transitively."""
    graph = {}
    for j in STATE.all_jobs():
        try:
            graph[j.full_name] = JobSpec(j.root()).downstream_names()
        except Exception:
            graph[j.full_name] = []
    if direction == "up":
        rev = {}
        for a, ds in graph.items():
            for d in ds:
                rev.setdefault(d, []).append(a)
        graph = rev
    seen, todo = set(), list(graph.get(job.full_name, []))
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        todo += graph.get(n, [])
    return seen


def busy(name, exclude_item=None):
    j = STATE.job_by_name(name)
    if j is None:
        return False
    if any(b.building for b in j.builds.values()):
        return True
    return any(q.job is j and q is not exclude_item for q in STATE.queue)


def blocked_why(item):
    job = item.job
    spec = JobSpec(job.root())
    if not spec.concurrent:
        for b in job.builds.values():
            if b.building:
                return "Build #%d is already in progress (ETA: N/A)" % b.number
    if spec.block_downstream:
        for n in sorted(transitive(job, "down")):
            if n != job.full_name and busy(n):
                return "Downstream project %s is already building." % n
    if spec.block_upstream:
        for n in sorted(transitive(job, "up")):
            if n != job.full_name and busy(n):
                return "Upstream project %s is already building." % n
    return None


def enqueue(job, params, causes, quiet=None):
    """Queues a build; an identical waiting one is reused, as Jenkins does."""
    with STATE.lock:
        for q in STATE.queue:
            if q.job is job and q.params == params:
                return q
        q = QueueItem(STATE.next_qid, job, params, causes, STATE.quiet if quiet is None else quiet)
        STATE.next_qid += 1
        STATE.queue.append(q)
        STATE.items[q.id] = q
        STATE.wake.notify_all()
        return q


def scheduler():
    with STATE.lock:
        while not STATE.stopping:
            t = time.time()
            for q in list(STATE.queue):
                if t < q.not_before:
                    q.why = "In the quiet period. Expires in %.1f sec" % (q.not_before - t)
                    continue
                why = blocked_why(q)
                if why is None and len(STATE.running) >= STATE.executors:
                    why = "Waiting for next available executor"
                q.why = why
                if why:
                    continue
                STATE.queue.remove(q)
                job = q.job
                b = Build(job, job.next_build, q.params, q.causes, q.id)
                job.next_build += 1
                job.builds[b.number] = b
                q.left = True
                q.why = None
                q.executable = b
                STATE.running.append(b)
                threading.Thread(target=run_build, args=(b,), daemon=True).start()
            STATE.wake.wait(0.05)


# ---------------------------------------------------------------- builds

def build_env(b, ws, base_url):
    job = b.job
    env = dict(os.environ)
    env.update({
        "BUILD_NUMBER": str(b.number), "BUILD_ID": str(b.number), "BUILD_DISPLAY_NAME": "#%d" % b.number,
        "JOB_NAME": job.full_name, "JOB_BASE_NAME": job.name,
        "BUILD_TAG": "jenkins-%s-%d" % (job.full_name.replace("/", "-"), b.number),
        "EXECUTOR_NUMBER": "0", "NODE_NAME": "built-in", "NODE_LABELS": "built-in master",
        "WORKSPACE": ws, "JENKINS_HOME": STATE.home, "JENKINS_URL": base_url + "/",
        "BUILD_URL": base_url + "/" + b.url_path(), "JOB_URL": base_url + "/" + job.url_path(),
        "JENKINS_SERVER_COOKIE": STATE.session_id,
    })
    for k, v in b.params:
        env[k] = v
    return env


def run_shell(b, command, env, ws, post=False):
    """One hudson.tasks.Shell step; returns its exit code.  A build step of
    an aborted build is killed; a post-build step (the teardown) runs."""
    fd, path = tempfile.mkstemp(prefix="jenkins", suffix=".sh", dir=os.path.join(STATE.home, "tmp"))
    with os.fdopen(fd, "w") as f:
        f.write(command)
    if command.startswith("#!"):
        os.chmod(path, 0o700)
        argv = [path]
        b.write("[%s] $ %s\n" % (b.job.name, path))
    else:
        argv = ["/bin/sh", "-xe", path]
        b.write("[%s] $ /bin/sh -xe %s\n" % (b.job.name, path))
    try:
        proc = subprocess.Popen(argv, cwd=ws, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    except OSError as e:
        b.write("java.io.IOException: %s\n" % e)
        return 1
    with STATE.lock:
        if not post:
            b.proc = proc
        aborted = b.abort_reason is not None
    if aborted and not post:
        kill_tree(proc)
    while True:
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        b.write(chunk)
    rc = proc.wait()
    with STATE.lock:
        if not post:
            b.proc = None
    os.unlink(path)
    return rc


def kill_tree(proc):
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return

    def later():
        time.sleep(10)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    threading.Thread(target=later, daemon=True).start()


def abort(b, reason, result="ABORTED"):
    with STATE.lock:
        if not b.building or b.abort_reason:
            return
        b.abort_reason = reason
        b.abort_result = result
        proc = b.proc
    if proc:
        kill_tree(proc)


def timeout_of(spec):
    """(seconds, result) of a BuildTimeoutWrapper, or None."""
    for w in spec.wrappers:
        if w.tag != "hudson.plugins.build__timeout.BuildTimeoutWrapper":
            continue
        strat = w.find("strategy")
        minutes = text_of(strat.find("timeoutMinutes") if strat is not None else None, "")
        try:
            secs = float(minutes) * 60
        except ValueError:
            continue
        ops = [o.tag for o in (w.find("operationList") or [])]
        fail = any(t.endswith("FailOperation") for t in ops)
        return secs, "FAILURE" if fail else "ABORTED"
    return None


def junit(b, pub, ws, started_s):
    patterns = [p.strip() for p in text_of(pub.find("testResults")).split(",") if p.strip()]
    allow_empty = flag(pub, "allowEmptyResults")
    skip_unstable = flag(pub, "skipMarkingBuildUnstable")
    files = []
    for p in patterns:
        files += [f for f in glob.glob(os.path.join(ws, p), recursive=True) if os.path.isfile(f)]
    b.write("Recording test results\n")
    if not files:
        if allow_empty:
            b.write("None of the test reports contained any result\n")
            return None
        b.write("ERROR: Step ‘Publish JUnit test result report’ failed: No test report files were found. "
                "Configuration error?\n")
        return "FAILURE"
    fresh = [f for f in files if os.path.getmtime(f) >= started_s - 1]
    if not fresh:
        b.write("ERROR: Step ‘Publish JUnit test result report’ failed: Test reports were found but none "
                "of them are new. Did leafNodes run?\n")
        return "FAILURE"
    suites, p, f_, s = [], 0, 0, 0
    for path in fresh:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:
            b.write("ERROR: Failed to read test report file %s: %s\n" % (path, e))
            return "FAILURE"
        for suite in ([root] if root.tag == "testsuite" else list(root.iter("testsuite"))):
            cases = []
            for tc in suite.iter("testcase"):
                if tc.find("failure") is not None or tc.find("error") is not None:
                    st = "FAILED"
                    f_ += 1
                elif tc.find("skipped") is not None:
                    st = "SKIPPED"
                    s += 1
                else:
                    st = "PASSED"
                    p += 1
                bad = tc.find("failure") if tc.find("failure") is not None else tc.find("error")
                cases.append({"className": tc.get("classname", ""), "name": tc.get("name", ""),
                              "status": st, "errorDetails": bad.get("message") if bad is not None else None})
            suites.append({"name": suite.get("name", ""), "cases": cases})
    b.tests = {"_class": "hudson.tasks.junit.TestResult", "failCount": f_, "passCount": p, "skipCount": s,
               "empty": p + f_ + s == 0, "suites": suites}
    if f_ and not skip_unstable:
        b.write("Build step 'Publish JUnit test result report' changed build result to UNSTABLE\n")
        return "UNSTABLE"
    return None


def condition_met(cond, result):
    r = RESULT_ORDER.get(result, 9)
    return {
        "SUCCESS": result == "SUCCESS",
        "UNSTABLE": result == "UNSTABLE",
        "UNSTABLE_OR_BETTER": r <= 1,
        "UNSTABLE_OR_WORSE": r >= 1,
        "FAILED": result == "FAILURE",
        "FAILED_OR_BETTER": r <= 2,
        "ALWAYS": True,
    }.get(cond, False)


def expand(value, env):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), m.group(0)), value)


def read_props(text, env):
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        out.append((k.strip(), expand(v.strip(), env)))
    return out


def trigger(b, names, params, env):
    for n in names:
        target = STATE.job_by_name(n)
        if target is None or target.kind != "job":
            b.write("ERROR: No such project ‘%s’. Did you mean ‘%s’?\n" % (n, n))
            continue
        cause = {"_class": "hudson.model.Cause$UpstreamCause", "upstreamBuild": b.number,
                 "upstreamProject": b.job.full_name, "upstreamUrl": b.job.url_path(),
                 "shortDescription": "Started by upstream project \"%s\" build number %d"
                                     % (b.job.full_name, b.number)}
        # like Jenkins: the target's own parameters get the values passed or
        # their defaults; values it does not define are dropped
        spec = JobSpec(target.root())
        given = dict(params)
        enqueue(target, [(name, given.get(name, default)) for name, default, _ in spec.params], [cause])
        b.write("Triggering a new build of %s\n" % n)


def parameterized_triggers(b, pub, env, ws, result):
    for cfg in pub.iter("hudson.plugins.parameterizedtrigger.BuildTriggerConfig"):
        cond = text_of(cfg.find("condition"), "ALWAYS")
        names = split_projects(text_of(cfg.find("projects")))
        if not condition_met(cond, result):
            continue
        configs = cfg.find("configs")
        sources = list(configs) if configs is not None else []
        params, dont = [], False
        for src in sources:
            tag = src.tag.rsplit(".", 1)[-1]
            if tag == "CurrentBuildParameters":
                params += b.params
            elif tag == "PredefinedBuildParameters":
                params += read_props(text_of(src.find("properties")), env)
            elif tag == "FileBuildParameters":
                for name in split_projects(text_of(src.find("propertiesFile"))):
                    path = os.path.join(ws, name)
                    if os.path.isfile(path):
                        with open(path) as f:
                            params += read_props(f.read(), env)
                    elif flag(src, "failTriggerOnMissing"):
                        b.write("[parameterized-trigger] Properties file %s did not exist.\n" % name)
                        dont = True
            else:
                b.write("[stand-in] parameter source not simulated: %s\n" % src.tag)
        if dont:
            continue
        if sources and not params and not flag(cfg, "triggerWithNoParameters"):
            continue
        trigger(b, names, params, env)


def post_build_scripts(b, pub, env, ws, result):
    for step in pub.iter("org.jenkinsci.plugins.postbuildscript.model.PostBuildStep"):
        wanted = [text_of(s) for s in step.iter("string")]
        if result not in wanted:
            continue
        b.write("[PostBuildScript] - [INFO] Executing post build scripts.\n")
        inner = step.find("buildSteps")
        for sh in (inner if inner is not None else []):
            if sh.tag == "hudson.tasks.Shell":
                rc = run_shell(b, text_of(sh.find("command")), env, ws, post=True)
                if rc != 0:
                    b.write("[PostBuildScript] - [ERROR] An error occured during post-build processing.\n")


def run_build(b):
    job = b.job
    started = time.time()
    base = STATE.base_url
    ws = os.path.join(STATE.home, "workspace", *job.full_name.split("/"))
    os.makedirs(ws, exist_ok=True)
    b.workspace = ws
    for c in b.causes:
        b.write(c["shortDescription"] + "\n")
        if c["_class"].endswith("UpstreamCause"):
            b.write("originally caused by:\n " + "Started by user %s\n" % STATE.user)
    b.write("Running as SYSTEM\nBuilding in workspace %s\n" % ws)
    spec = JobSpec(job.root())
    env = build_env(b, ws, base)
    result = "SUCCESS"
    timer = None
    t = timeout_of(spec)
    if t:
        secs, res = t

        def expire():
            abort(b, "Build timed out (after %g minutes). Marking the build as %s."
                  % (secs / 60, "failed" if res == "FAILURE" else "aborted"), res)
        timer = threading.Timer(secs, expire)
        timer.daemon = True
        timer.start()
    for step in spec.builders:
        if step.tag != "hudson.tasks.Shell":
            b.write("[stand-in] build step not simulated: %s\n" % step.tag)
            continue
        rc = run_shell(b, text_of(step.find("command")), env, ws)
        if b.abort_reason:
            break
        if rc != 0:
            b.write("Build step 'Execute shell' marked build as failure\n")
            result = "FAILURE"
            break
    if timer:
        timer.cancel()
    if b.abort_reason:
        b.write(b.abort_reason + "\n")
        result = b.abort_result
    for pub in spec.publishers:
        if pub.tag == "hudson.tasks.junit.JUnitResultArchiver":
            if result != "ABORTED":
                r = junit(b, pub, ws, started)
                if r and RESULT_ORDER[r] > RESULT_ORDER[result]:
                    result = r
        elif pub.tag == "org.jenkinsci.plugins.postbuildscript.PostBuildScript":
            post_build_scripts(b, pub, env, ws, result)
        elif pub.tag not in ("hudson.plugins.parameterizedtrigger.BuildTrigger", "hudson.tasks.BuildTrigger"):
            b.write("[stand-in] publisher not simulated: %s\n" % pub.tag)
    # triggers see the final result
    for pub in spec.publishers:
        if pub.tag == "hudson.plugins.parameterizedtrigger.BuildTrigger":
            parameterized_triggers(b, pub, env, ws, result)
        elif pub.tag == "hudson.tasks.BuildTrigger":
            threshold = text_of(pub.find("threshold/name"), "SUCCESS")
            if RESULT_ORDER.get(result, 9) <= RESULT_ORDER.get(threshold, 0):
                trigger(b, split_projects(text_of(pub.find("childProjects"))), [], env)
    b.write("Finished: %s\n" % result)
    with STATE.lock:
        b.result = result
        b.duration = int((time.time() - started) * 1000)
        b.building = False
        STATE.running.remove(b)
        if spec.keep:
            for n in sorted(job.builds)[:-spec.keep]:
                if not job.builds[n].building:
                    del job.builds[n]
        STATE.wake.notify_all()


# ------------------------------------------------------------------- JSON

def parse_tree(s):
    """tree=jobs[name,url,jobs[name]]{0,10},x -> {name: (subtree, range)}"""
    out, i = {}, 0

    def parse_list(i):
        res = {}
        while i < len(s):
            m = re.match(r"[\w$]+", s[i:])
            if not m:
                raise HttpError(400, "bad tree at %d" % i)
            name = m.group(0)
            i += len(name)
            sub, rng = None, None
            if i < len(s) and s[i] == "[":
                sub, i = parse_list(i + 1)
                if i >= len(s) or s[i] != "]":
                    raise HttpError(400, "unbalanced [ in tree")
                i += 1
            if i < len(s) and s[i] == "{":
                j = s.index("}", i)
                parts = s[i + 1:j].split(",")
                lo = int(parts[0]) if parts[0] else 0
                hi = int(parts[1]) if len(parts) > 1 and parts[1] else None
                rng = (lo, hi)
                i = j + 1
            res[name] = (sub, rng)
            if i < len(s) and s[i] == ",":
                i += 1
                continue
            break
        return res, i
    out, i = parse_list(0)
    return out


def apply_tree(obj, tree):
    if isinstance(obj, list):
        return [apply_tree(x, tree) for x in obj]
    if not isinstance(obj, dict):
        return obj
    res = {}
    if "_class" in obj:
        res["_class"] = obj["_class"]
    for name, (sub, rng) in tree.items():
        if name not in obj:
            continue
        v = obj[name]
        if rng and isinstance(v, list):
            v = v[rng[0]:rng[1]]
        if sub is not None:
            res[name] = apply_tree(v, sub)
        elif isinstance(v, dict):
            res[name] = {"_class": v["_class"]} if "_class" in v else {}
        elif isinstance(v, list) and v and isinstance(v[0], dict):
            res[name] = [{"_class": x["_class"]} if "_class" in x else {} for x in v]
        else:
            res[name] = v
    return res


def job_ref(j, base):
    d = {"_class": FOLDER if j.kind == "folder" else FREESTYLE, "name": j.name,
         "url": base + "/" + j.url_path()}
    c = color_of(j)
    if c:
        d["color"] = c
    return d


def job_entry(j, base):
    """A job in a listing; folders list theirs (tree= picks the fields)."""
    d = dict(job_ref(j, base), fullName=j.full_name, description=j.description())
    if j.kind == "folder":
        d["jobs"] = [job_entry(c, base) for c in j.children.values()]
    return d


def build_ref(b, base):
    return {"_class": "hudson.model.FreeStyleBuild", "number": b.number, "url": base + "/" + b.url_path()}


def param_defs(spec):
    out = []
    for name, default, tag in spec.params:
        kind = tag.rsplit(".", 1)[-1]
        vclass = "hudson.model." + kind.replace("Definition", "Value")
        if kind == "ChoiceParameterDefinition":
            vclass = "hudson.model.StringParameterValue"
        out.append({"_class": tag, "defaultParameterValue": {"_class": vclass, "name": name,
                                                             "value": default == "true" if "Boolean" in kind else default},
                    "description": None, "name": name, "type": kind})
    return out


def item_json(it, base):
    if it is STATE.root:
        return {"_class": "hudson.model.Hudson", "assignedLabels": [{"name": "built-in"}], "mode": "NORMAL",
                "nodeDescription": "the Jenkins controller's built-in node", "nodeName": "",
                "numExecutors": STATE.executors, "description": None,
                "jobs": [job_entry(c, base) for c in it.children.values()],
                "overallLoad": {}, "primaryView": {"_class": "hudson.model.AllView", "name": "all",
                                                   "url": base + "/"},
                "quietingDown": False, "slaveAgentPort": -1, "unlabeledLoad": {"_class": "jenkins.model.UnlabeledLoadStatistics"},
                "url": base + "/", "useCrumbs": STATE.csrf, "useSecurity": True,
                "views": [{"_class": "hudson.model.AllView", "name": "all", "url": base + "/"}]}
    d = {"_class": FOLDER if it.kind == "folder" else FREESTYLE, "actions": [], "description": it.description(),
         "displayName": it.name, "displayNameOrNull": None, "fullDisplayName": it.full_name.replace("/", " » "),
         "fullName": it.full_name, "name": it.name, "url": base + "/" + it.url_path(), "healthReport": []}
    if it.kind == "folder":
        d["jobs"] = [job_entry(c, base) for c in it.children.values()]
        d["primaryView"] = {"_class": "hudson.model.AllView", "name": "All", "url": d["url"]}
        d["views"] = [d["primaryView"]]
        return d
    spec = JobSpec(it.root())
    builds = sorted(it.builds.values(), key=lambda b: -b.number)
    done = [b for b in builds if not b.building]

    def last(pred):
        for b in done:
            if pred(b):
                return build_ref(b, base)
        return None
    q = next((q for q in STATE.queue if q.job is it), None)
    props = []
    if spec.keep:
        props.append({"_class": "jenkins.model.BuildDiscarderProperty"})
    if spec.params:
        props.append({"_class": "hudson.model.ParametersDefinitionProperty", "parameterDefinitions": param_defs(spec)})
    d.update({
        "buildable": not it.disabled(), "builds": [build_ref(b, base) for b in builds[:100]],
        "color": color_of(it), "firstBuild": build_ref(builds[-1], base) if builds else None,
        "inQueue": q is not None, "keepDependencies": False,
        "lastBuild": build_ref(builds[0], base) if builds else None,
        "lastCompletedBuild": last(lambda b: True),
        "lastFailedBuild": last(lambda b: b.result == "FAILURE"),
        "lastStableBuild": last(lambda b: b.result == "SUCCESS"),
        "lastSuccessfulBuild": last(lambda b: b.result in ("SUCCESS", "UNSTABLE")),
        "lastUnstableBuild": last(lambda b: b.result == "UNSTABLE"),
        "lastUnsuccessfulBuild": last(lambda b: b.result != "SUCCESS"),
        "nextBuildNumber": it.next_build, "property": props,
        "queueItem": queue_json(q, base) if q else None,
        "concurrentBuild": spec.concurrent, "disabled": it.disabled(),
        "downstreamProjects": [job_ref(STATE.job_by_name(n), base) for n in spec.downstream_names()
                               if STATE.job_by_name(n)],
        "labelExpression": None, "scm": {"_class": "hudson.scm.NullSCM"},
        "upstreamProjects": [job_ref(j, base) for j in STATE.all_jobs()
                             if it.full_name in JobSpec(j.root()).downstream_names()],
    })
    return d


def actions_of(params, causes):
    acts = []
    if params:
        acts.append({"_class": "hudson.model.ParametersAction",
                     "parameters": [{"_class": "hudson.model.StringParameterValue", "name": k, "value": v}
                                    for k, v in params]})
    acts.append({"_class": "hudson.model.CauseAction", "causes": causes})
    return acts


def queue_json(q, base):
    d = {"actions": actions_of(q.params, q.causes), "blocked": bool(q.why and "already" in q.why),
         "buildable": not q.left and q.why is not None and "executor" in (q.why or ""),
         "id": q.id, "inQueueSince": q.since, "params": "".join("\n%s=%s" % kv for kv in q.params),
         "stuck": False, "task": job_ref(q.job, base), "url": "queue/item/%d/" % q.id,
         "why": q.why, "timestamp": q.since}
    if q.left:
        d["_class"] = "hudson.model.Queue$LeftItem"
        d["cancelled"] = q.cancelled
        d["executable"] = build_ref(q.executable, base) if q.executable else None
    else:
        d["_class"] = "hudson.model.Queue$BlockedItem" if d["blocked"] else "hudson.model.Queue$WaitingItem"
    return d


def build_json(b, base):
    return {"_class": "hudson.model.FreeStyleBuild", "actions": actions_of(b.params, b.causes),
            "artifacts": [], "building": b.building, "description": None, "displayName": "#%d" % b.number,
            "duration": b.duration, "estimatedDuration": b.duration or -1, "executor": {} if b.building else None,
            "fullDisplayName": "%s #%d" % (b.job.full_name.replace("/", " » "), b.number), "id": str(b.number),
            "keepLog": False, "number": b.number, "queueId": b.queue_id, "result": b.result,
            "timestamp": b.timestamp, "url": base + "/" + b.url_path(), "builtOn": "",
            "changeSet": {"_class": "hudson.scm.EmptyChangeLogSet", "items": [], "kind": None}, "culprits": []}


# -------------------------------------------------------------------- HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Jetty(10.0.18)"
    # headers and body go out in two writes: without TCP_NODELAY, Nagle and
    # the client's delayed ACK stall every keep-alive response by ~40 ms
    disable_nagle_algorithm = True

    def log_message(self, fmt, *args):
        if STATE and STATE.log:
            STATE.log.write("%s %s\n" % (self.address_string(), fmt % args))
            STATE.log.flush()

    # -- plumbing
    def base(self):
        return "http://" + (self.headers.get("Host") or "%s:%d" % self.server.server_address[:2])

    def send(self, status, body=b"", ctype="text/html;charset=utf-8", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("X-Jenkins", VERSION)
        self.send_header("X-Jenkins-Session", STATE.session_id)
        self.send_header("X-Content-Type-Options", "nosniff")
        if body or status not in (201, 302):
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, obj, query):
        tree = query.get("tree", [None])[0]
        if tree:
            obj = apply_tree(obj, parse_tree(tree))
        self.send(200, json.dumps(obj), "application/json;charset=utf-8")

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(n) if n else b""

    def authenticate(self):
        """The user, and whether an API token (not a password) was used."""
        h = self.headers.get("Authorization")
        if not h:
            raise HttpError(403, "Authentication required")
        try:
            kind, val = h.split(" ", 1)
            user, pw = base64.b64decode(val).decode().split(":", 1)
        except Exception:
            raise HttpError(401, "Invalid authorization header", {"WWW-Authenticate": 'Basic realm="Jenkins"'})
        if kind.lower() != "basic" or user != STATE.user:
            raise HttpError(401, "Invalid password/token for user: %s" % user,
                            {"WWW-Authenticate": 'Basic realm="Jenkins"'})
        if pw in STATE.tokens:
            return user, True
        if STATE.password is not None and hmac.compare_digest(pw, STATE.password):
            return user, False
        raise HttpError(401, "Invalid password/token for user: %s" % user,
                        {"WWW-Authenticate": 'Basic realm="Jenkins"'})

    def session(self):
        for part in (self.headers.get("Cookie") or "").split(";"):
            k, _, v = part.strip().partition("=")
            if k.startswith("JSESSIONID.") and v in STATE.sessions:
                return v
        return None

    def crumb_for(self, user, session):
        return hmac.new(STATE.secret, ("%s;%s" % (user, session)).encode(), hashlib.sha256).hexdigest()

    def check_crumb(self, user, token_auth):
        if not STATE.csrf or token_auth:
            return
        session = self.session()
        want = self.crumb_for(user, session) if session else None
        got = self.headers.get("Jenkins-Crumb")
        if not want or not got or not hmac.compare_digest(got, want):
            raise HttpError(403, "No valid crumb was included in the request")

    def handle_any(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        if parts and parts[-1] == "":
            parts = parts[:-1]
        method = self.command
        body = self.body() if method == "POST" else b""
        try:
            if parts[:1] == ["_stand-in"]:   # not Jenkins, not counted
                return self.stand_in(parts[1:], query)
            with STATE.lock:
                STATE.stats[method if method in ("GET", "POST") else "other"] += 1
            user, token_auth = self.authenticate()
            if method == "POST":
                self.check_crumb(user, token_auth)
                kind = parts[-1] if parts else "/"
                with STATE.lock:
                    STATE.stats["posts"][kind] = STATE.stats["posts"].get(kind, 0) + 1
            with STATE.lock:
                return self.route(method, parts, query, body, user)
        except HttpError as e:
            page = "<html><head><title>Error %d %s</title></head><body><h2>HTTP ERROR %d %s</h2></body></html>" % (
                e.status, e.message, e.status, e.message)
            hdrs = dict(e.headers)
            if e.status == 400:
                hdrs["X-Error"] = e.message
            self.send(e.status, page, headers=hdrs)

    do_GET = do_POST = do_HEAD = handle_any

    # -- routes (called with STATE.lock held)
    def route(self, method, parts, query, body, user):
        base = self.base()
        if parts == ["crumbIssuer", "api", "json"]:
            if not STATE.csrf:
                raise HttpError(404, "Not Found")
            s = self.session()
            hdrs = {}
            if not s:
                s = secrets.token_hex(12)
                STATE.sessions.add(s)
                hdrs["Set-Cookie"] = "JSESSIONID.%s=%s; Path=/; HttpOnly" % (STATE.session_id, s)
            obj = {"_class": "hudson.security.csrf.DefaultCrumbIssuer", "crumb": self.crumb_for(user, s),
                   "crumbRequestField": "Jenkins-Crumb"}
            return self.send(200, json.dumps(obj), "application/json;charset=utf-8", hdrs)
        if parts[:1] in (["me"], ["whoAmI"]) and parts[1:] == ["api", "json"]:
            return self.send_json({"_class": "hudson.model.User", "fullName": user, "id": user,
                                   "absoluteUrl": base + "/user/" + user, "description": None}, query)
        if parts == ["pluginManager", "api", "json"]:
            return self.send_json({"_class": "hudson.LocalPluginManager", "plugins": [
                {"active": True, "backupVersion": None, "bundled": False, "deleted": False, "dependencies": [],
                 "downgradable": False, "enabled": True, "hasUpdate": False, "longName": lng, "pinned": False,
                 "requiredCoreVersion": "2.361.1", "shortName": short, "supportsDynamicLoad": "MAYBE",
                 "url": "https://plugins.jenkins.io/%s" % short, "version": ver} for short, lng, ver in PLUGINS]},
                query)
        if parts == ["computer", "api", "json"]:
            return self.send_json({"_class": "hudson.model.ComputerSet", "busyExecutors": len(STATE.running),
                                   "computer": [{"_class": "hudson.model.Hudson$MasterComputer",
                                                 "displayName": "Built-In Node", "numExecutors": STATE.executors,
                                                 "offline": False, "idle": not STATE.running}],
                                   "displayName": "Nodes", "totalExecutors": STATE.executors}, query)
        if parts[:1] == ["queue"]:
            return self.queue_route(method, parts[1:], query, base)
        # walk job/<name>/job/<name>...
        it, i = STATE.root, 0
        while i + 1 < len(parts) and parts[i] == "job":
            if it.kind != "folder" or parts[i + 1] not in it.children:
                raise HttpError(404, "Not Found")
            it = it.children[parts[i + 1]]
            i += 2
        rest = parts[i:]
        return self.item_route(method, it, rest, query, body, user, base)

    def queue_route(self, method, rest, query, base):
        if rest == ["api", "json"]:
            return self.send_json({"_class": "hudson.model.Queue", "discoverableItems": [],
                                   "items": [queue_json(q, base) for q in STATE.queue]}, query)
        if rest[:1] == ["item"] and len(rest) >= 2 and rest[1].isdigit():
            q = STATE.items.get(int(rest[1]))
            if not q:
                raise HttpError(404, "Not Found")
            if rest[2:] == ["api", "json"]:
                return self.send_json(queue_json(q, base), query)
            if rest[2:] == ["cancelQueue"] and method == "POST":
                return self.cancel(q, base)
            raise HttpError(404, "Not Found")
        if rest == ["cancelItem"] and method == "POST":
            q = STATE.items.get(int(query.get("id", ["0"])[0] or 0))
            if not q:
                raise HttpError(404, "Not Found")
            return self.cancel(q, base)
        raise HttpError(404, "Not Found")

    def cancel(self, q, base):
        if q in STATE.queue:
            STATE.queue.remove(q)
            q.left = True
            q.cancelled = True
        return self.send(302, b"", headers={"Location": base + "/queue/"})

    def item_route(self, method, it, rest, query, body, user, base):
        if rest in ([], [""]):
            if method != "GET" and method != "HEAD":
                raise HttpError(405, "Method Not Allowed")
            return self.send(200, "<html><head><title>%s [Jenkins]</title></head><body></body></html>"
                             % (it.full_name or "Dashboard"))
        if rest == ["api", "json"]:
            return self.send_json(item_json(it, base), query)
        if rest == ["api", "xml"]:
            raise HttpError(404, "Not Found")
        if rest == ["createItem"]:
            self.need_post(method)
            if it.kind != "folder":
                raise HttpError(404, "Not Found")
            return self.create_item(it, query, body, base)
        if it is STATE.root:
            raise HttpError(404, "Not Found")
        if rest == ["config.xml"]:
            if method == "POST":
                it.config = reserialize(body, it.full_name)
                it.config_writes += 1
                STATE.save(it)
                return self.send(200, b"")
            return self.send(200, it.config, "application/xml;charset=utf-8")
        if rest == ["doDelete"]:
            self.need_post(method)
            for j in ([it] if it.kind == "job" else list(STATE.all_jobs(it))):
                for b in j.builds.values():
                    abort(b, "Aborted: the job was deleted")
            del it.container.children[it.name]
            STATE.queue = [q for q in STATE.queue if q.job is not it]
            STATE.forget(it)
            parent = base + "/" + (it.container.url_path() if it.container is not STATE.root else "")
            return self.send(302, b"", headers={"Location": parent})
        if rest in (["enable"], ["disable"]):
            self.need_post(method)
            root = it.root()
            d = root.find("disabled")
            if d is None:
                d = ET.SubElement(root, "disabled")
            d.text = "true" if rest == ["disable"] else "false"
            it.config = "<?xml version='1.1' encoding='UTF-8'?>\n" + ET.tostring(root, encoding="unicode")
            it.config_writes += 1
            return self.send(302, b"", headers={"Location": base + "/" + it.url_path()})
        if it.kind != "job":
            raise HttpError(404, "Not Found")
        if rest in (["build"], ["buildWithParameters"]):
            self.need_post(method)
            return self.build(it, rest[0], query, body, user, base)
        if rest and (rest[0].isdigit() or rest[0] in ("lastBuild", "lastCompletedBuild", "lastSuccessfulBuild",
                                                      "lastFailedBuild", "lastStableBuild")):
            return self.build_route(method, it, rest, query, base)
        raise HttpError(404, "Not Found")

    def need_post(self, method):
        if method != "POST":
            raise HttpError(405, "HTTP method GET is not supported by this URL")

    def create_item(self, folder, query, body, base):
        name = (query.get("name") or [""])[0]
        if not name:
            raise HttpError(400, "Query parameter 'name' is required")
        bad = [c for c in name if c in UNSAFE]
        if bad:
            raise HttpError(400, "‘%s’ is an unsafe character" % bad[0])
        if name in folder.children:
            raise HttpError(400, "A job already exists with the name ‘%s’" % name)
        mode = (query.get("mode") or [""])[0]
        if mode == "copy":
            src = STATE.job_by_name((query.get("from") or [""])[0])
            if src is None:
                raise HttpError(400, "No such job: %s" % (query.get("from") or [""])[0])
            config = src.config
        else:
            config = reserialize(body, name)
        kind = "folder" if ET.fromstring(config).tag == FOLDER else "job"
        it = Item(name, folder, config, kind)
        folder.children[name] = it
        STATE.save(it)
        return self.send(200, b"")

    def build(self, job, verb, query, body, user, base):
        spec = JobSpec(job.root())
        if job.disabled():
            raise HttpError(409, "%s is disabled" % job.full_name)
        given = {k: v[-1] for k, v in query.items()}
        ctype = self.headers.get("Content-Type", "")
        if body and "x-www-form-urlencoded" in ctype:
            given.update({k: v[-1] for k, v in urllib.parse.parse_qs(body.decode(), keep_blank_values=True).items()})
        quiet = None
        if "delay" in given:
            m = re.match(r"(\d+)", given.pop("delay"))
            quiet = int(m.group(1)) if m else None
        given.pop("token", None)
        if verb == "build" and spec.params and "json" not in given:
            raise HttpError(400, "This page expects a form submission")
        if verb == "buildWithParameters" and not spec.params:
            raise HttpError(500, "This build is not parameterized!")
        params = [(n, given.get(n, d)) for n, d, _ in spec.params]
        cause = {"_class": "hudson.model.Cause$UserIdCause", "shortDescription": "Started by user %s" % user,
                 "userId": user, "userName": user}
        q = enqueue(job, params, [cause], quiet)
        return self.send(201, b"", headers={"Location": "%s/queue/item/%d/" % (base, q.id)})

    def build_route(self, method, job, rest, query, base):
        key = rest[0]
        if key.isdigit():
            b = job.builds.get(int(key))
        else:
            done = sorted((b for b in job.builds.values()), key=lambda b: -b.number)
            pred = {"lastBuild": lambda b: True, "lastCompletedBuild": lambda b: not b.building,
                    "lastSuccessfulBuild": lambda b: b.result in ("SUCCESS", "UNSTABLE"),
                    "lastFailedBuild": lambda b: b.result == "FAILURE",
                    "lastStableBuild": lambda b: b.result == "SUCCESS"}[key]
            b = next((x for x in done if pred(x)), None)
        if b is None:
            raise HttpError(404, "Not Found")
        sub = rest[1:]
        if sub == []:
            return self.send(200, "<html><head><title>%s #%d [Jenkins]</title></head><body></body></html>"
                             % (job.full_name, b.number))
        if sub == ["api", "json"]:
            return self.send_json(build_json(b, base), query)
        if sub == ["consoleText"]:
            return self.send(200, bytes(b.log), "text/plain;charset=utf-8")
        if sub == ["logText", "progressiveText"]:
            start = int((query.get("start") or ["0"])[0] or 0)
            data = bytes(b.log)
            start = min(max(start, 0), len(data))
            hdrs = {"X-Text-Size": str(len(data))}
            if b.building:
                hdrs["X-More-Data"] = "true"
            return self.send(200, data[start:], "text/plain;charset=utf-8", hdrs)
        if sub == ["testReport", "api", "json"]:
            if not b.tests:
                raise HttpError(404, "Not Found")
            return self.send_json(b.tests, query)
        if sub in (["stop"], ["term"], ["kill"]):
            self.need_post(method)
            abort(b, "Aborted by %s" % STATE.user)
            return self.send(302, b"", headers={"Location": base + "/" + b.url_path()})
        if sub == ["doDelete"]:
            self.need_post(method)
            if not b.building:
                del job.builds[b.number]
            return self.send(302, b"", headers={"Location": base + "/" + job.url_path()})
        raise HttpError(404, "Not Found")

    def stand_in(self, rest, query):
        with STATE.lock:
            if rest == ["stats"]:
                obj = json.loads(json.dumps(STATE.stats))
                obj["config_writes"] = {j.full_name: j.config_writes for j in STATE.all_jobs()}
                if query.get("reset"):
                    STATE.stats = {"GET": 0, "POST": 0, "other": 0, "posts": {}}
                return self.send(200, json.dumps(obj), "application/json")
        raise HttpError(404, "Not Found")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    global STATE
    ap = argparse.ArgumentParser(description="Jenkins REST stand-in for jcicd's tests")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0: any free port")
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--home", required=True, help="JENKINS_HOME: jobs, workspaces")
    ap.add_argument("--user", default="jcicd")
    ap.add_argument("--token-file", action="append", default=[],
                    help="a file whose first line is an API token of the user (repeatable)")
    ap.add_argument("--password-file", help="a file holding the user's password (POSTs then need a crumb)")
    ap.add_argument("--no-csrf", action="store_true", help="no crumb issuer (404), no crumbs needed")
    ap.add_argument("--executors", type=int, default=4)
    ap.add_argument("--quiet-period", type=float, default=0.3, help="seconds a queued build waits")
    ap.add_argument("--log", help="access log file")
    args = ap.parse_args()
    # secrets come in files, not on the command line (ps shows that)
    args.token = [open(f).readline().strip() for f in args.token_file]
    args.password = open(args.password_file).readline().strip() if args.password_file else None
    os.makedirs(os.path.join(args.home, "tmp"), exist_ok=True)
    shutil.rmtree(os.path.join(args.home, "jobs"), ignore_errors=True)
    STATE = State(args)
    STATE.log = open(args.log, "a") if args.log else None
    httpd = Server((args.host, args.port), Handler)
    STATE.base_url = "http://%s:%d" % (args.host, httpd.server_address[1])
    threading.Thread(target=scheduler, daemon=True).start()

    def stop(signum, frame):
        STATE.stopping = True
        with STATE.lock:
            for b in list(STATE.running):
                if b.proc:
                    try:
                        os.killpg(b.proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
        threading.Thread(target=httpd.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % httpd.server_address[1])
        os.rename(tmp, args.port_file)
    httpd.serve_forever(poll_interval=0.2)


if __name__ == "__main__":
    main()
