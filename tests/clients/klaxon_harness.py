"""Starts a live klaxon node for real-client tests.

Used by every Python test here, under both Debian's /usr/bin/python3 (boto3 1.26, the query
protocol for CloudWatch) and the newer python3 on PATH (boto3 1.43). The binary comes from
$KLAXON_BIN (set by ctest) or build/klaxon.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ACCOUNT = "000000000000"
REGION = "us-east-1"
# The stock Debian CLI (2.9.19) unless KLAXON_AWS_CLI names another: tests/CMakeLists.txt runs the
# CLI suites again with the `aws` first on PATH, a newer v1 (1.45 here).
AWS_CLI = os.environ.get("KLAXON_AWS_CLI", "/usr/bin/aws")


def klaxon_bin():
    return os.environ.get("KLAXON_BIN") or os.path.join(ROOT, "build", "klaxon")


class Node:
    """One klaxon process on an ephemeral loopback port with its own data directory."""

    def __init__(self, data_dir=None, region=REGION, extra_args=()):
        self.owns_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="klaxon-test-")
        self.region = region
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None

    def start(self):
        port_file = os.path.join(self.data_dir, "port")
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log = open(os.path.join(self.data_dir, "klaxon.log"), "ab")
        self.proc = subprocess.Popen(
            [klaxon_bin(), "serve", "--listen", "127.0.0.1:0", "--data", self.data_dir,
             "--region", self.region, "--port-file", port_file] + self.extra_args,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("klaxon exited with %s; log in %s" % (self.proc.returncode, self.data_dir))
            try:
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return self
            except FileNotFoundError:
                pass
            time.sleep(0.02)
        raise RuntimeError("klaxon did not start within 30 s")

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def exit_note(self, lines=20):
        """Empty while the process runs; else its exit code and the last lines of its log (for
        failure messages: a node that went away mid-test shows as "could not connect")."""
        if self.proc is None or self.proc.poll() is None:
            return ""
        try:
            with open(os.path.join(self.data_dir, "klaxon.log"), errors="replace") as f:
                tail = "".join(f.readlines()[-lines:])
        except OSError as e:
            tail = str(e)
        return "\nklaxon exited with %s; its log ends:\n%s" % (self.proc.returncode, tail)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.log.close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("klaxon did not stop on SIGTERM within 20 s")
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def cleanup(self):
        if self.owns_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)


def client_env(node):
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": node.region,
        "AWS_REGION": node.region,
        "AWS_PAGER": "",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    return env


def boto_client(node, service, region=None):
    """A boto3 client for the node, signing for region (default: the node's)."""
    import boto3
    return boto3.client(service, endpoint_url=node.endpoint, region_name=region or node.region,
                        aws_access_key_id="test", aws_secret_access_key="test")


@contextlib.contextmanager
def running_node():
    """A started Node whose client environment is exported to os.environ; stopped (SIGTERM) and
    its data removed on leaving the block. For tests that kill -9 and restart their own node."""
    node = Node().start()
    os.environ.update(client_env(node))
    try:
        yield node
    finally:
        node.stop()
        node.cleanup()


def wait_for(fn, timeout=15.0, interval=0.05):
    """Polls fn() until it returns a truthy value and returns that value; fails the test
    (AssertionError) if none comes within timeout seconds."""
    deadline = time.time() + timeout
    while True:
        value = fn()
        if value:
            return value
        if time.time() >= deadline:
            raise AssertionError("condition not met within %s s" % timeout)
        time.sleep(interval)


def create_replication_set(im, region=REGION):
    """Creates the replication set through the ssm-incidents client im and waits until it is
    ACTIVE; returns its ARN."""
    arn = im.create_replication_set(regions={region: {}})["arn"]
    wait_for(lambda: im.get_replication_set(arn=arn)["replicationSet"]["status"] == "ACTIVE",
             timeout=5)
    return arn


class NodeTestCase(unittest.TestCase):
    """A test case class with one node shared by its tests."""

    node = None

    @classmethod
    def setUpClass(cls):
        cls.node = Node().start()
        os.environ.update(client_env(cls.node))

    @classmethod
    def tearDownClass(cls):
        # A node that is gone before its tests ended (crashed, or stopped by a signal from
        # outside: then it exits 0) fails the class, with its log.
        gone = cls.node.exit_note()
        rc = cls.node.stop()
        cls.node.cleanup()
        if gone:
            raise AssertionError("klaxon went away before the end of its tests" + gone)
        if rc not in (0, None):
            raise AssertionError("klaxon exited with %s after SIGTERM" % rc)

    def aws(self, *args, expect_error=None, env=None):
        """Runs `aws --endpoint-url <node> --output json <args>` (AWS_CLI) and returns its parsed
        JSON output ({} when empty), failing the test on a non-zero exit. With expect_error, the
        command must fail with that AWS error code ("(Code)" in stderr); returns stderr then.
        env replaces the process environment (default: os.environ, as set by setUpClass)."""
        proc = subprocess.run([AWS_CLI, "--endpoint-url", self.node.endpoint, "--output", "json"] +
                              list(args), capture_output=True, text=True, env=env, timeout=120)
        if expect_error:
            self.assertNotEqual(proc.returncode, 0, proc.stdout)
            self.assertIn("(%s)" % expect_error, proc.stderr, self.node.exit_note())
            return proc.stderr
        self.assertEqual(proc.returncode, 0, proc.stderr + self.node.exit_note())
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def boto(self, service, region=None):
        """A boto3 client for the node, signing for region (default: the node's)."""
        return boto_client(self.node, service, region)


class StormTestCase(NodeTestCase):
    """A node whose incidents hold at most 4 timeline events (its config file says so), so a few
    duplicate starts fill a timeline; its replication set exists. For the storm tests."""

    @classmethod
    def setUpClass(cls):
        cls.config_dir = tempfile.mkdtemp(prefix="klaxon-storm-config-")
        config = os.path.join(cls.config_dir, "klaxon.yaml")
        with open(config, "w") as f:
            f.write("limits:\n  timeline_events_per_incident: 4\n")
        cls.node = Node(extra_args=["--config", config]).start()
        os.environ.update(client_env(cls.node))
        create_replication_set(boto_client(cls.node, "ssm-incidents"))

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.config_dir, ignore_errors=True)


def plan_arn(name, account=ACCOUNT):
    return "arn:aws:ssm-incidents::%s:response-plan/%s" % (account, name)
