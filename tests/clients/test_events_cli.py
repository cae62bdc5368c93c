"""Every EventBridge operation klaxon serves, through the stock Debian `aws` CLI
(/usr/bin/aws, 2.9.19), errors included, and an EC2 state change turned into an incident.

`make test` runs it a second time with the newer aws CLI v1 first on PATH (KLAXON_AWS_CLI)."""

import json
import unittest

from klaxon_harness import ACCOUNT, NodeTestCase, wait_for

ROLE = "arn:aws:iam::%s:role/EventBridgeStartIncident" % ACCOUNT
INSTANCE = "arn:aws:ec2:us-east-1:%s:instance/i-0cli0000000000001" % ACCOUNT


class EventsCliTest(NodeTestCase):

    def ev(self, *args, **kwargs):
        return self.aws("events", *args, **kwargs)

    def test_buses_rules_targets_tags(self):
        self.assertEqual(self.ev("describe-event-bus")["Name"], "default")
        arn = self.ev("create-event-bus", "--name", "cli-bus", "--tags",
                      "Key=team,Value=sre")["EventBusArn"]
        self.assertEqual(arn, "arn:aws:events:us-east-1:%s:event-bus/cli-bus" % ACCOUNT)
        self.ev("create-event-bus", "--name", "cli-bus", expect_error="ResourceAlreadyExistsException")
        self.assertEqual(self.ev("describe-event-bus", "--name", "cli-bus")["Arn"], arn)
        names = [b["Name"] for b in self.ev("list-event-buses")["EventBuses"]]
        self.assertEqual(sorted(names), ["cli-bus", "default"])

        pattern = json.dumps({"source": ["com.example.orders"], "detail": {"amount": [{"numeric": [">", 100]}]}})
        rule_arn = self.ev("put-rule", "--name", "big-orders", "--event-bus-name", "cli-bus",
                           "--event-pattern", pattern, "--description", "large orders")["RuleArn"]
        self.assertEqual(rule_arn, "arn:aws:events:us-east-1:%s:rule/cli-bus/big-orders" % ACCOUNT)
        rule = self.ev("describe-rule", "--name", "big-orders", "--event-bus-name", "cli-bus")
        self.assertEqual(rule["EventPattern"], pattern)
        self.assertEqual(rule["State"], "ENABLED")
        self.ev("disable-rule", "--name", "big-orders", "--event-bus-name", "cli-bus")
        self.assertEqual(self.ev("describe-rule", "--name", "big-orders", "--event-bus-name",
                                 "cli-bus")["State"], "DISABLED")
        self.ev("enable-rule", "--name", "big-orders", "--event-bus-name", "cli-bus")
        rules = self.ev("list-rules", "--event-bus-name", "cli-bus")["Rules"]
        self.assertEqual([r["Name"] for r in rules], ["big-orders"])
        self.ev("describe-rule", "--name", "missing", expect_error="ResourceNotFoundException")
        self.ev("put-rule", "--name", "bad", "--event-pattern", '{"source":"x"}',
                expect_error="InvalidEventPatternException")
        self.ev("put-rule", "--name", "sched", "--schedule-expression", "rate(1 minute)",
                expect_error="ValidationException")

        plan = "arn:aws:ssm-incidents::%s:response-plan/cli-plan" % ACCOUNT
        out = self.ev("put-targets", "--rule", "big-orders", "--event-bus-name", "cli-bus", "--targets",
                      json.dumps([{"Id": "im", "Arn": plan, "RoleArn": ROLE},
                                  {"Id": "sns", "Arn": "arn:aws:sns:us-east-1:%s:t" % ACCOUNT}]))
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(out["FailedEntries"][0]["TargetId"], "sns")
        targets = self.ev("list-targets-by-rule", "--rule", "big-orders", "--event-bus-name", "cli-bus")
        self.assertEqual([t["Id"] for t in targets["Targets"]], ["im"])
        self.assertEqual(self.ev("list-rule-names-by-target", "--target-arn", plan,
                                 "--event-bus-name", "cli-bus")["RuleNames"], ["big-orders"])
        too_many = [{"Id": "h%d" % i, "Arn": "http://127.0.0.1:9/%d" % i} for i in range(5)]
        self.ev("put-targets", "--rule", "big-orders", "--event-bus-name", "cli-bus", "--targets",
                json.dumps(too_many), expect_error="LimitExceededException")
        self.ev("delete-rule", "--name", "big-orders", "--event-bus-name", "cli-bus",
                expect_error="ValidationException")

        self.ev("tag-resource", "--resource-arn", rule_arn, "--tags", "Key=env,Value=prod")
        self.assertEqual(self.ev("list-tags-for-resource", "--resource-arn", rule_arn)["Tags"],
                         [{"Key": "env", "Value": "prod"}])
        self.ev("untag-resource", "--resource-arn", rule_arn, "--tag-keys", "env")
        self.assertEqual(self.ev("list-tags-for-resource", "--resource-arn", rule_arn)["Tags"], [])
        self.ev("list-tags-for-resource", "--resource-arn", rule_arn + "-gone",
                expect_error="ResourceNotFoundException")

        self.ev("remove-targets", "--rule", "big-orders", "--event-bus-name", "cli-bus", "--ids", "im")
        self.ev("delete-rule", "--name", "big-orders", "--event-bus-name", "cli-bus")
        self.ev("delete-event-bus", "--name", "cli-bus")
        self.ev("describe-event-bus", "--name", "cli-bus", expect_error="ResourceNotFoundException")

    def test_put_events_and_test_event_pattern(self):
        event = json.dumps({"id": "1", "account": ACCOUNT, "source": "com.example", "time":
                            "2024-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
                            "detail-type": "t", "detail": {"n": 5}})
        self.assertTrue(self.ev("test-event-pattern", "--event-pattern",
                                '{"detail":{"n":[{"numeric":[">",1]}]}}', "--event", event)["Result"])
        self.assertFalse(self.ev("test-event-pattern", "--event-pattern",
                                 '{"detail":{"n":[{"numeric":["<",1]}]}}', "--event", event)["Result"])
        self.ev("test-event-pattern", "--event-pattern", '{"detail":[]}', "--event", event,
                expect_error="InvalidEventPatternException")
        out = self.ev("put-events", "--entries", json.dumps([
            {"Source": "com.example", "DetailType": "t", "Detail": '{"a":1}'},
            {"Source": "com.example", "DetailType": "t", "Detail": "{oops"}]))
        self.assertEqual(out["FailedEntryCount"], 1)
        self.assertEqual(len(out["Entries"][0]["EventId"]), 36)
        self.assertEqual(out["Entries"][1]["ErrorCode"], "MalformedDetail")

    def test_partner_sources(self):
        name = "aws.partner/saas.example.com/%s/cli" % ACCOUNT
        arn = self.ev("create-partner-event-source", "--name", name, "--account", ACCOUNT)[
            "EventSourceArn"]
        self.assertEqual(self.ev("describe-partner-event-source", "--name", name)["Arn"], arn)
        self.assertEqual([s["Name"] for s in self.ev(
            "list-partner-event-sources", "--name-prefix", "aws.partner/saas.example.com/")[
                "PartnerEventSources"]], [name])
        accounts = self.ev("list-partner-event-source-accounts", "--event-source-name", name)
        self.assertEqual(accounts["PartnerEventSourceAccounts"][0]["Account"], ACCOUNT)
        self.assertEqual([s["Name"] for s in self.ev("list-event-sources")["EventSources"]], [name])
        self.assertEqual(self.ev("describe-event-source", "--name", name)["State"], "PENDING")
        self.ev("create-event-bus", "--name", name, "--event-source-name", name)
        self.assertEqual(self.ev("describe-event-source", "--name", name)["State"], "ACTIVE")
        self.ev("deactivate-event-source", "--name", name)
        self.assertEqual(self.ev("describe-event-source", "--name", name)["State"], "PENDING")
        self.ev("activate-event-source", "--name", name)
        out = self.ev("put-partner-events", "--entries", json.dumps([
            {"Source": name, "DetailType": "Alert", "Detail": "{}"}]))
        self.assertEqual(out["FailedEntryCount"], 0)
        self.ev("describe-event-source", "--name", "aws.partner/none.example/1/x",
                expect_error="ResourceNotFoundException")
        self.ev("delete-event-bus", "--name", name)
        self.ev("delete-partner-event-source", "--name", name, "--account", ACCOUNT)
        self.assertEqual(self.ev("describe-event-source", "--name", name)["State"], "DELETED")
        self.ev("activate-event-source", "--name", name, expect_error="InvalidStateException")

    def test_ec2_event_to_incident(self):
        self.aws("ssm-incidents", "create-replication-set", "--regions", '{"us-east-1":{}}')
        plan = self.aws("ssm-incidents", "create-response-plan", "--name", "ec2-cli",
                        "--incident-template", '{"title":"EC2 down","impact":2}')["arn"]
        pattern = json.dumps({"source": ["aws.ec2"], "detail": {"state": [{"anything-but": "running"}]}})
        self.ev("put-rule", "--name", "ec2-cli", "--event-pattern", pattern)
        self.ev("put-targets", "--rule", "ec2-cli", "--targets",
                json.dumps([{"Id": "im", "Arn": plan, "RoleArn": ROLE}]))
        self.ev("put-events", "--entries", json.dumps([
            {"Source": "aws.ec2", "DetailType": "EC2 Instance State-change Notification",
             "Detail": '{"state":"stopped"}', "Resources": [INSTANCE]}]))
        records = wait_for(lambda: self.aws("ssm-incidents", "list-incident-records")[
            "incidentRecordSummaries"], interval=0.1)
        self.assertEqual(len(records), 1)
        items = self.aws("ssm-incidents", "list-related-items", "--incident-record-arn",
                         records[0]["arn"])["relatedItems"]
        self.assertIn(INSTANCE, [i["identifier"]["value"].get("arn") for i in items])


if __name__ == "__main__":
    unittest.main()
