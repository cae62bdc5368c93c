"""The newcomer's flow from issue 2 through the stock Debian `aws` CLI (/usr/bin/aws, 2.9.19).

`make test` runs it a second time with the newer aws CLI v1 first on PATH (KLAXON_AWS_CLI)."""

import os
import unittest

from klaxon_harness import ACCOUNT, NodeTestCase, StormTestCase


class CliTest(NodeTestCase):

    def test_newcomer_flow(self):
        self.aws("ssm-incidents", "create-replication-set", "--regions", '{"us-east-1":{}}')
        self.aws("ssm-incidents", "create-response-plan", "--name", "db-down", "--incident-template",
                 '{"title":"DB down","impact":2,"dedupeString":"db"}')
        plan = "arn:aws:ssm-incidents::%s:response-plan/db-down" % ACCOUNT
        arn = self.aws("ssm-incidents", "start-incident", "--response-plan-arn", plan, "--title",
                       "Primary DB unreachable")["incidentRecordArn"]
        listed = self.aws("ssm-incidents", "list-incident-records")["incidentRecordSummaries"]
        self.assertIn(arn, [s["arn"] for s in listed])
        rec = self.aws("ssm-incidents", "get-incident-record", "--arn", arn)["incidentRecord"]
        self.assertEqual(rec["title"], "Primary DB unreachable")
        self.assertEqual(rec["dedupeString"], "db")
        items = self.aws("ssm-incidents", "list-related-items", "--incident-record-arn", arn)
        parent = [i for i in items["relatedItems"] if i["identifier"]["type"] == "PARENT"][0]
        events = self.aws("ssm-incidents", "list-timeline-events", "--incident-record-arn", arn)
        self.assertTrue(events["eventSummaries"])
        ops_id = parent["identifier"]["value"]["arn"].split("/")[-1]
        ops = self.aws("ssm", "get-ops-item", "--ops-item-id", ops_id)["OpsItem"]
        self.assertEqual(ops["OpsItemId"], ops_id)

        # A second start with the same dedupeString lands in the same incident.
        again = self.aws("ssm-incidents", "start-incident", "--response-plan-arn",
                         plan)["incidentRecordArn"]
        self.assertEqual(again, arn)

        # Errors come back as the right AWS exception through the CLI.
        self.aws("ssm-incidents", "get-response-plan", "--arn",
                 "arn:aws:ssm-incidents::%s:response-plan/missing" % ACCOUNT,
                 expect_error="ResourceNotFoundException")
        self.aws("ssm-incidents", "create-response-plan", "--name", "x", "--incident-template",
                 '{"title":"t","impact":6}', expect_error="ValidationException")
        self.aws("ssm", "get-ops-item", "--ops-item-id", "oi-000000000000",
                 expect_error="OpsItemNotFoundException")

        self.aws("ssm-incidents", "update-incident-record", "--arn", arn, "--status", "RESOLVED")
        rec = self.aws("ssm-incidents", "get-incident-record", "--arn", arn)["incidentRecord"]
        self.assertEqual(rec["status"], "RESOLVED")

    def test_bad_signature(self):
        self.aws("ssm-incidents", "list-response-plans", env=dict(os.environ,
                 AWS_SECRET_ACCESS_KEY="wrong"), expect_error="InvalidSignatureException")
        self.aws("ssm-incidents", "list-response-plans", env=dict(os.environ,
                 AWS_ACCESS_KEY_ID="unknown"), expect_error="UnrecognizedClientException")

    def test_credential_scoped_to_another_region(self):
        # The node serves us-east-1: a request signed for eu-west-1 is refused.
        for args in (("ssm-incidents", "list-response-plans"), ("ssm", "describe-ops-items")):
            stderr = self.aws(*args, "--region", "eu-west-1",
                              expect_error="InvalidSignatureException")
            self.assertIn("eu-west-1", stderr)


class CliStormTest(StormTestCase):
    """Duplicates into an incident whose timeline is full (4 events on this node), each with the
    clientToken the CLI generates: answered with the open incident; a token replays after the
    incident is resolved."""

    def test_storm_with_the_cli(self):
        im = "ssm-incidents"
        self.aws(im, "create-response-plan", "--name", "storm", "--incident-template",
                 '{"title":"Storm","impact":3,"dedupeString":"storm"}')
        plan = "arn:aws:ssm-incidents::%s:response-plan/storm" % ACCOUNT
        start = ("start-incident", "--response-plan-arn", plan)
        arns = {self.aws(im, *start)["incidentRecordArn"] for _ in range(6)}
        self.assertEqual(len(arns), 1)
        first = arns.pop()
        events = self.aws(im, "list-timeline-events", "--incident-record-arn", first)
        self.assertEqual(len(events["eventSummaries"]), 4)
        self.assertEqual(self.aws(im, *start, "--client-token", "cli-storm-1")["incidentRecordArn"],
                         first)
        self.aws(im, "update-incident-record", "--arn", first, "--status", "RESOLVED")
        self.assertEqual(self.aws(im, *start, "--client-token", "cli-storm-1")["incidentRecordArn"],
                         first)
        self.aws(im, *start, "--client-token", "cli-storm-1", "--title", "Other",
                 expect_error="ConflictException")
        self.assertNotEqual(self.aws(im, *start)["incidentRecordArn"], first)


if __name__ == "__main__":
    unittest.main()
