#!/usr/bin/python3
"""clients.py PREFIX: drives the Jenkins stand-in with the real python3-jenkins
client (Debian's), the way scripts use it against a real Jenkins, and prints
one line per check: "PASS name" or "FAIL name: why".  The shell test
(test/cli/jobs-clients.sh) turns them into TAP.

Environment: JCICD_TEST_JENKINS (URL), JCICD_TEST_JENKINS_USER,
JCICD_TEST_JENKINS_TOKEN_FILE, JCICD_TEST_JENKINS_PASSWORD_FILE.
"""
import os
import sys
import time
import traceback

import jenkins
import requests

URL = os.environ["JCICD_TEST_JENKINS"]
USER = os.environ["JCICD_TEST_JENKINS_USER"]
TOKEN = open(os.environ["JCICD_TEST_JENKINS_TOKEN_FILE"]).readline().strip()
PASSWORD = open(os.environ["JCICD_TEST_JENKINS_PASSWORD_FILE"]).readline().strip()
P = sys.argv[1]
DEADLINE = 60

FOLDER = "<?xml version='1.0' encoding='UTF-8'?><com.cloudbees.hudson.plugins.folder.Folder/>"


def job_xml(description, command, params=(), extra=""):
    defs = "".join(
        "<hudson.model.StringParameterDefinition><name>%s</name><defaultValue>%s</defaultValue>"
        "</hudson.model.StringParameterDefinition>" % (n, d) for n, d in params)
    props = ("<hudson.model.ParametersDefinitionProperty><parameterDefinitions>%s</parameterDefinitions>"
             "</hudson.model.ParametersDefinitionProperty>" % defs) if params else ""
    return ("<?xml version='1.0' encoding='UTF-8'?><project><description>%s</description>"
            "<properties>%s</properties><builders><hudson.tasks.Shell><command>%s</command></hudson.tasks.Shell>"
            "</builders><publishers>%s</publishers></project>" % (description, props, command, extra))


def wait_build(server, name, queue_id):
    end = time.time() + DEADLINE
    while time.time() < end:
        item = server.get_queue_item(queue_id)
        if item.get("executable"):
            number = item["executable"]["number"]
            while time.time() < end:
                info = server.get_build_info(name, number)
                if not info["building"]:
                    return info
                time.sleep(0.1)
        time.sleep(0.1)
    raise AssertionError("build of %s did not finish in %d s" % (name, DEADLINE))


CHECKS = []


def check(fn):
    CHECKS.append(fn)
    return fn


S = jenkins.Jenkins(URL, USER, TOKEN, timeout=30)


@check
def whoami_and_version():
    assert S.get_whoami()["id"] == USER
    assert S.get_version() == requests.get(URL + "/", auth=(USER, TOKEN)).headers["X-Jenkins"]


@check
def create_read_reconfigure():
    name = P + "-a"
    S.create_job(name, job_xml("first", "echo a"))
    assert S.job_exists(name)
    cfg = S.get_job_config(name)
    assert "<description>first</description>" in cfg, cfg
    S.reconfig_job(name, job_xml("second", "echo a"))
    assert S.get_job_info(name)["description"] == "second"
    try:
        S.create_job(name, job_xml("again", "echo a"))
        raise AssertionError("creating an existing job succeeded")
    except jenkins.JenkinsException:
        pass


@check
def folders():
    S.create_job(P + "-f", FOLDER)
    S.create_job(P + "-f/inner", job_xml("inside", "echo in"))
    names = [j["fullname"] for j in S.get_all_jobs()]
    assert P + "-f/inner" in names, names
    assert S.is_folder(P + "-f")
    assert S.get_job_info(P + "-f/inner")["fullName"] == P + "-f/inner"


@check
def build_with_parameters():
    name = P + "-b"
    S.create_job(name, job_xml("b", 'echo "hello $WHO from $JOB_NAME #$BUILD_NUMBER"', [("WHO", "nobody")]))
    info = wait_build(S, name, S.build_job(name, {"WHO": "python3-jenkins"}))
    assert info["result"] == "SUCCESS", info["result"]
    out = S.get_build_console_output(name, info["number"])
    assert "hello python3-jenkins from %s #1" % name in out, out
    assert out.rstrip().endswith("Finished: SUCCESS"), out


@check
def failing_build():
    name = P + "-fail"
    S.create_job(name, job_xml("fails", "echo before; false; echo never"))
    info = wait_build(S, name, S.build_job(name))
    assert info["result"] == "FAILURE", info["result"]
    out = S.get_build_console_output(name, info["number"])
    assert "never" not in out.replace("echo never", ""), out


@check
def junit_failures_make_unstable():
    name = P + "-junit"
    report = ('cat &gt;r.xml &lt;&lt;EOF\n&lt;testsuite name="s"&gt;&lt;testcase classname="c" name="ok"/&gt;'
              '&lt;testcase classname="c" name="bad"&gt;&lt;failure message="boom"/&gt;&lt;/testcase&gt;'
              '&lt;/testsuite&gt;\nEOF')
    pub = ("<hudson.tasks.junit.JUnitResultArchiver><testResults>r.xml</testResults>"
           "<allowEmptyResults>false</allowEmptyResults></hudson.tasks.junit.JUnitResultArchiver>")
    S.create_job(name, job_xml("junit", report, extra=pub))
    info = wait_build(S, name, S.build_job(name))
    assert info["result"] == "UNSTABLE", info["result"]
    rep = S.get_build_test_report(name, info["number"])
    assert (rep["passCount"], rep["failCount"]) == (1, 1), rep


@check
def stop_runs_abort_steps():
    name = P + "-stop"
    post = ("<org.jenkinsci.plugins.postbuildscript.PostBuildScript><config><buildSteps>"
            "<org.jenkinsci.plugins.postbuildscript.model.PostBuildStep><results><string>ABORTED</string>"
            "</results><buildSteps><hudson.tasks.Shell><command>echo tearing down</command></hudson.tasks.Shell>"
            "</buildSteps></org.jenkinsci.plugins.postbuildscript.model.PostBuildStep></buildSteps></config>"
            "</org.jenkinsci.plugins.postbuildscript.PostBuildScript>")
    S.create_job(name, job_xml("stop", "echo started; sleep 30", extra=post))
    q = S.build_job(name)
    end = time.time() + DEADLINE
    while not S.get_queue_item(q).get("executable"):
        assert time.time() < end
        time.sleep(0.1)
    number = S.get_queue_item(q)["executable"]["number"]
    while "started" not in S.get_build_console_output(name, number).replace("echo started", ""):
        assert time.time() < end
        time.sleep(0.1)
    S.stop_build(name, number)
    info = wait_build(S, name, q)
    assert info["result"] == "ABORTED", info["result"]
    out = S.get_build_console_output(name, number)
    assert "tearing down" in out.replace("echo tearing down", ""), out


@check
def delete():
    for n in (P + "-a", P + "-b", P + "-fail", P + "-junit", P + "-stop", P + "-f"):
        S.delete_job(n)
        assert not S.job_exists(n), n
    assert not S.job_exists(P + "-f/inner")


@check
def plugins():
    p = S.get_plugins()
    assert "parameterized-trigger" in p and "postbuildscript" in p, list(p.keys())


@check
def password_needs_crumb():
    s = jenkins.Jenkins(URL, USER, PASSWORD, timeout=30)
    name = P + "-pw"
    s.create_job(name, job_xml("pw", "true"))
    assert s.crumb and s.crumb["crumbRequestField"] == "Jenkins-Crumb", s.crumb
    s.delete_job(name)
    r = requests.post(URL + "/createItem?name=" + name, data=job_xml("x", "true"), auth=(USER, PASSWORD),
                      headers={"Content-Type": "application/xml"})
    assert r.status_code == 403 and "crumb" in r.text, (r.status_code, r.text[:200])
    r = requests.post(URL + "/createItem?name=" + name, data=job_xml("x", "true"), auth=(USER, TOKEN),
                      headers={"Content-Type": "application/xml"})
    assert r.status_code == 200, r.status_code   # an API token needs no crumb
    S.delete_job(name)


@check
def bad_token_refused():
    s = jenkins.Jenkins(URL, USER, "not-the-token", timeout=30)
    try:
        s.get_whoami()
        raise AssertionError("a wrong token was accepted")
    except jenkins.JenkinsException as e:
        assert "401" in str(e), e


def main():
    failed = 0
    for fn in CHECKS:
        try:
            fn()
            print("PASS python3-jenkins: %s" % fn.__name__.replace("_", " "))
        except Exception as e:
            failed += 1
            print("FAIL python3-jenkins: %s: %s" % (fn.__name__.replace("_", " "), e))
            traceback.print_exc(file=sys.stdout)
        sys.stdout.flush()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
