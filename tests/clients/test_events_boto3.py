"""EventBridge through boto3 against a live klaxon: every registered operation, its errors, and
the incidents it creates (EC2 state change, partner source, webhook).

Runs under Debian's /usr/bin/python3 (boto3 1.26) and the newer python3 on PATH (boto3 1.43).
"""

import http.server
import json
import threading
import time
import unittest
import uuid

from klaxon_harness import ACCOUNT, REGION, NodeTestCase, create_replication_set, wait_for

ROLE = "arn:aws:iam::%s:role/EventBridgeStartIncident" % ACCOUNT
INSTANCE = "arn:aws:ec2:us-east-1:%s:instance/i-0abcd1234ef567890" % ACCOUNT
EC2_PATTERN = json.dumps({
    "source": ["aws.ec2"],
    "detail-type": ["EC2 Instance State-change Notification"],
    "detail": {"state": [{"anything-but": "running"}]},
})


def ec2_event(state, instance=INSTANCE):
    return {"Source": "aws.ec2", "DetailType": "EC2 Instance State-change Notification",
            "Detail": json.dumps({"instance-id": instance.split("/")[-1], "state": state}),
            "Resources": [instance]}


class Hook(http.server.BaseHTTPRequestHandler):
    received = []
    lock = threading.Lock()

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        with Hook.lock:
            Hook.received.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class EventBridgeTest(NodeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_replication_set(cls.boto(cls, "ssm-incidents"))

    def setUp(self):
        self.events = self.boto("events")
        self.im = self.boto("ssm-incidents")

    def make_plan(self, dedupe=None):
        name = "plan-" + uuid.uuid4().hex[:10]
        template = {"title": "From EventBridge", "impact": 2}
        if dedupe:
            template["dedupeString"] = dedupe
        return self.im.create_response_plan(name=name, incidentTemplate=template)["arn"]

    def incidents_of(self, plan):
        out = []
        for page in self.im.get_paginator("list_incident_records").paginate():
            for s in page["incidentRecordSummaries"]:
                if s["arn"].split("/")[-2] == plan.split("/")[-1]:
                    out.append(s)
        return out

    def code(self, ctx):
        return ctx.exception.response["Error"]["Code"]

    # --- event buses -----------------------------------------------------------------------

    def test_event_buses(self):
        default = self.events.describe_event_bus()
        self.assertEqual(default["Name"], "default")
        self.assertEqual(default["Arn"], "arn:aws:events:%s:%s:event-bus/default" % (REGION, ACCOUNT))
        name = "bus-" + uuid.uuid4().hex[:8]
        arn = self.events.create_event_bus(Name=name, Tags=[{"Key": "team", "Value": "sre"}])[
            "EventBusArn"]
        self.assertEqual(arn, "arn:aws:events:%s:%s:event-bus/%s" % (REGION, ACCOUNT, name))
        self.assertEqual(self.events.describe_event_bus(Name=name)["Arn"], arn)
        self.assertEqual(self.events.describe_event_bus(Name=arn)["Name"], name)
        names = [b["Name"] for b in self.events.list_event_buses()["EventBuses"]]
        self.assertIn("default", names)
        self.assertIn(name, names)
        self.assertEqual([b["Name"] for b in self.events.list_event_buses(NamePrefix=name)["EventBuses"]],
                         [name])
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "team", "Value": "sre"}])
        with self.assertRaises(self.events.exceptions.ResourceAlreadyExistsException):
            self.events.create_event_bus(Name=name)
        self.events.delete_event_bus(Name=name)
        self.events.delete_event_bus(Name=name)  # idempotent, as AWS
        with self.assertRaises(self.events.exceptions.ResourceNotFoundException):
            self.events.describe_event_bus(Name=name)
        with self.assertRaises(self.events.exceptions.ClientError) as ctx:
            self.events.delete_event_bus(Name="default")
        self.assertEqual(self.code(ctx), "ValidationException")

    # --- rules and targets -----------------------------------------------------------------

    def test_rules_and_targets(self):
        rule = "rule-" + uuid.uuid4().hex[:8]
        arn = self.events.put_rule(Name=rule, EventPattern=EC2_PATTERN, Description="EC2 not running",
                                   Tags=[{"Key": "env", "Value": "prod"}])["RuleArn"]
        self.assertEqual(arn, "arn:aws:events:%s:%s:rule/%s" % (REGION, ACCOUNT, rule))
        described = self.events.describe_rule(Name=rule)
        self.assertEqual(described["EventPattern"], EC2_PATTERN)
        self.assertEqual(described["State"], "ENABLED")
        self.assertEqual(described["EventBusName"], "default")
        self.assertEqual(described["Description"], "EC2 not running")
        self.events.disable_rule(Name=rule)
        self.assertEqual(self.events.describe_rule(Name=rule)["State"], "DISABLED")
        self.events.enable_rule(Name=rule)
        self.assertEqual(self.events.describe_rule(Name=rule)["State"], "ENABLED")
        listed = [r["Name"] for r in self.events.list_rules(NamePrefix=rule)["Rules"]]
        self.assertEqual(listed, [rule])

        plan = self.make_plan()
        result = self.events.put_targets(Rule=rule, Targets=[
            {"Id": "im", "Arn": plan, "RoleArn": ROLE},
            {"Id": "im2", "Arn": plan.replace("response-plan/", "responseplan/"), "RoleArn": ROLE},
            {"Id": "lambda", "Arn": "arn:aws:lambda:us-east-1:%s:function:f" % ACCOUNT},
            {"Id": "norole", "Arn": plan},
        ])
        self.assertEqual(result["FailedEntryCount"], 2)
        failed = {f["TargetId"]: f for f in result["FailedEntries"]}
        self.assertEqual(set(failed), {"lambda", "norole"})
        self.assertEqual(failed["lambda"]["ErrorCode"], "ValidationException")
        self.assertIn("RoleArn", failed["norole"]["ErrorMessage"])
        targets = self.events.list_targets_by_rule(Rule=rule)["Targets"]
        self.assertEqual([t["Id"] for t in targets], ["im", "im2"])
        self.assertEqual(targets[0]["RoleArn"], ROLE)
        self.assertEqual(self.events.list_rule_names_by_target(TargetArn=plan)["RuleNames"], [rule])

        with self.assertRaises(self.events.exceptions.ClientError) as ctx:
            self.events.delete_rule(Name=rule)
        self.assertEqual(self.code(ctx), "ValidationException")
        self.assertIn("has targets", str(ctx.exception))

        hooks = [{"Id": "h%d" % i, "Arn": "http://127.0.0.1:9/%d" % i} for i in range(4)]
        with self.assertRaises(self.events.exceptions.LimitExceededException):
            self.events.put_targets(Rule=rule, Targets=hooks)

        self.events.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "a"}])
        tags = {t["Key"]: t["Value"] for t in self.events.list_tags_for_resource(ResourceARN=arn)["Tags"]}
        self.assertEqual(tags, {"env": "prod", "team": "a"})
        self.events.untag_resource(ResourceARN=arn, TagKeys=["env"])
        self.assertEqual(self.events.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "team", "Value": "a"}])

        removed = self.events.remove_targets(Rule=rule, Ids=["im", "im2"])
        self.assertEqual(removed["FailedEntryCount"], 0)
        self.events.delete_rule(Name=rule)
        with self.assertRaises(self.events.exceptions.ResourceNotFoundException) as ctx:
            self.events.describe_rule(Name=rule)
        self.assertIn("does not exist on EventBus default", str(ctx.exception))

    def test_rule_errors(self):
        with self.assertRaises(self.events.exceptions.InvalidEventPatternException) as ctx:
            self.events.put_rule(Name="bad", EventPattern='{"source": []}')
        self.assertIn("Empty arrays are not allowed", str(ctx.exception))
        with self.assertRaises(self.events.exceptions.ClientError) as ctx:
            self.events.put_rule(Name="sched", ScheduleExpression="rate(5 minutes)")
        self.assertEqual(self.code(ctx), "ValidationException")
        with self.assertRaises(self.events.exceptions.ClientError) as ctx:
            self.events.put_rule(Name="bad name!", EventPattern='{"source":["a"]}')
        self.assertEqual(self.code(ctx), "ValidationException")
        with self.assertRaises(self.events.exceptions.ResourceNotFoundException):
            self.events.put_rule(Name="r", EventPattern='{"source":["a"]}', EventBusName="no-bus")
        with self.assertRaises(self.events.exceptions.ResourceNotFoundException):
            self.events.put_targets(Rule="no-such-rule", Targets=[{"Id": "a", "Arn": "http://x/"}])

    def test_rule_pagination(self):
        prefix = "page-" + uuid.uuid4().hex[:6]
        for i in range(5):
            self.events.put_rule(Name="%s-%d" % (prefix, i), EventPattern='{"source":["p"]}')
        first = self.events.list_rules(NamePrefix=prefix, Limit=2)
        self.assertEqual(len(first["Rules"]), 2)
        self.assertIn("NextToken", first)
        names = []
        token = None
        while True:
            kwargs = {"NamePrefix": prefix, "Limit": 2}
            if token:
                kwargs["NextToken"] = token
            page = self.events.list_rules(**kwargs)
            names += [r["Name"] for r in page["Rules"]]
            token = page.get("NextToken")
            if not token:
                break
        self.assertEqual(names, ["%s-%d" % (prefix, i) for i in range(5)])
        for name in names:
            self.events.delete_rule(Name=name)

    # --- PutEvents and TestEventPattern ----------------------------------------------------

    def test_put_events_entries(self):
        result = self.events.put_events(Entries=[
            {"Source": "com.example", "DetailType": "t", "Detail": "{\"a\":1}"},
            {"Source": "com.example", "DetailType": "t"},
            {"Source": "com.example", "DetailType": "t", "Detail": "not json"},
            {"Source": "com.example", "DetailType": "t", "Detail": "{}", "EventBusName": "nope"},
        ])
        self.assertEqual(result["FailedEntryCount"], 3)
        entries = result["Entries"]
        self.assertEqual(len(entries[0]["EventId"]), 36)
        self.assertEqual(entries[1]["ErrorCode"], "InvalidArgument")
        self.assertEqual(entries[2]["ErrorCode"], "MalformedDetail")
        self.assertEqual(entries[3]["ErrorCode"], "ResourceNotFoundException")
        big = "x" * (200 * 1024)
        with self.assertRaises(self.events.exceptions.ClientError) as ctx:
            self.events.put_events(Entries=[
                {"Source": "s", "DetailType": "t", "Detail": json.dumps({"a": big})}] * 2)
        self.assertEqual(self.code(ctx), "ValidationException")

    def test_test_event_pattern(self):
        event = json.dumps({"id": "1", "account": ACCOUNT, "source": "aws.ec2",
                            "time": "2024-01-01T00:00:00Z", "region": REGION, "resources": [],
                            "detail-type": "EC2 Instance State-change Notification",
                            "detail": {"state": "stopped"}})
        self.assertTrue(self.events.test_event_pattern(EventPattern=EC2_PATTERN, Event=event)["Result"])
        running = event.replace("stopped", "running")
        self.assertFalse(self.events.test_event_pattern(EventPattern=EC2_PATTERN, Event=running)["Result"])
        with self.assertRaises(self.events.exceptions.InvalidEventPatternException):
            self.events.test_event_pattern(EventPattern='{"detail": 5}', Event=event)
        with self.assertRaises(self.events.exceptions.ClientError) as ctx:
            self.events.test_event_pattern(EventPattern=EC2_PATTERN, Event='{"source":"x"}')
        self.assertEqual(self.code(ctx), "ValidationException")

    # --- incidents from events -------------------------------------------------------------

    def test_ec2_state_change_creates_one_incident(self):
        plan = self.make_plan()
        rule = "ec2-" + uuid.uuid4().hex[:8]
        rule_arn = self.events.put_rule(Name=rule, EventPattern=EC2_PATTERN)["RuleArn"]
        self.events.put_targets(Rule=rule, Targets=[{"Id": "im", "Arn": plan, "RoleArn": ROLE}])

        # Not matching: nothing happens.
        self.events.put_events(Entries=[ec2_event("running")])
        time.sleep(0.5)
        self.assertEqual(self.incidents_of(plan), [])

        first = self.events.put_events(Entries=[ec2_event("stopped")])
        self.assertEqual(first["FailedEntryCount"], 0)
        found = wait_for(lambda: self.incidents_of(plan))
        self.assertEqual(len(found), 1)
        arn = found[0]["arn"]
        rec = self.im.get_incident_record(arn=arn)["incidentRecord"]
        self.assertEqual(rec["title"], "From EventBridge")
        self.assertEqual(rec["dedupeString"], rule_arn)
        self.assertEqual(rec["incidentRecordSource"]["source"], "aws.events")
        self.assertEqual(rec["incidentRecordSource"]["invokedBy"], "events.amazonaws.com")
        self.assertTrue(rec["incidentRecordSource"]["createdBy"].startswith(
            "arn:aws:sts::%s:assumed-role/EventBridgeStartIncident/" % ACCOUNT))
        items = self.im.list_related_items(incidentRecordArn=arn)["relatedItems"]
        involved = [i["identifier"]["value"]["arn"] for i in items
                    if i["identifier"]["type"] == "INVOLVED_RESOURCE"]
        self.assertEqual(involved, [INSTANCE])
        self.assertTrue(any(i["identifier"]["type"] == "PARENT" for i in items))

        def triggers():
            events = self.im.list_timeline_events(incidentRecordArn=arn)["eventSummaries"]
            return [e for e in events if e["eventType"] == "SSM Incident Trigger"]

        trigger = self.im.get_timeline_event(incidentRecordArn=arn,
                                             eventId=triggers()[0]["eventId"])["event"]
        data = json.loads(trigger["eventData"])
        self.assertEqual(data["triggerArn"], rule_arn)
        raw = json.loads(data["rawData"])
        self.assertEqual(raw["id"], first["Entries"][0]["EventId"])
        self.assertEqual(raw["detail"]["state"], "stopped")
        self.assertEqual(raw["resources"], [INSTANCE])
        self.assertEqual(raw["account"], ACCOUNT)

        # A second match while it is open dedups into it.
        self.events.put_events(Entries=[ec2_event("stopping")])
        self.assertTrue(wait_for(lambda: len(triggers()) == 2))
        self.assertEqual(len(self.incidents_of(plan)), 1)

        # After resolve, the next match opens a new incident.
        self.im.update_incident_record(arn=arn, status="RESOLVED")
        self.events.put_events(Entries=[ec2_event("terminated")])
        self.assertEqual(len(wait_for(lambda: len(self.incidents_of(plan)) == 2 and
                                      self.incidents_of(plan))), 2)
        self.events.remove_targets(Rule=rule, Ids=["im"])
        self.events.delete_rule(Name=rule)

    def test_partner_source_to_incident(self):
        name = "aws.partner/monitoring.example.com/%s/%s" % (ACCOUNT, uuid.uuid4().hex[:8])
        # Partner side (the same account plays the partner here).
        source_arn = self.events.create_partner_event_source(Name=name, Account=ACCOUNT)[
            "EventSourceArn"]
        self.assertEqual(source_arn, "arn:aws:events:%s::event-source/%s" % (REGION, name))
        self.assertEqual(self.events.describe_partner_event_source(Name=name)["Arn"], source_arn)
        listed = self.events.list_partner_event_sources(
            NamePrefix="aws.partner/monitoring.example.com/")["PartnerEventSources"]
        self.assertIn(name, [s["Name"] for s in listed])
        accounts = self.events.list_partner_event_source_accounts(EventSourceName=name)[
            "PartnerEventSourceAccounts"]
        self.assertEqual([(a["Account"], a["State"]) for a in accounts], [(ACCOUNT, "PENDING")])
        with self.assertRaises(self.events.exceptions.ResourceAlreadyExistsException):
            self.events.create_partner_event_source(Name=name, Account=ACCOUNT)

        # Customer side.
        source = self.events.describe_event_source(Name=name)
        self.assertEqual(source["State"], "PENDING")
        self.assertEqual(source["CreatedBy"], "monitoring.example.com")
        self.assertIn(name, [s["Name"] for s in self.events.list_event_sources(
            NamePrefix="aws.partner/monitoring")["EventSources"]])
        bus_arn = self.events.create_event_bus(Name=name, EventSourceName=name)["EventBusArn"]
        self.assertEqual(self.events.describe_event_source(Name=name)["State"], "ACTIVE")
        self.events.deactivate_event_source(Name=name)
        self.assertEqual(self.events.describe_event_source(Name=name)["State"], "PENDING")
        self.events.activate_event_source(Name=name)
        self.assertEqual(self.events.describe_event_source(Name=name)["State"], "ACTIVE")

        plan = self.make_plan()
        rule_arn = self.events.put_rule(Name="p1", EventBusName=name,
                                        EventPattern='{"detail":{"priority":["P1"]}}')["RuleArn"]
        self.assertEqual(rule_arn, "arn:aws:events:%s:%s:rule/%s/p1" % (REGION, ACCOUNT, name))
        self.events.put_targets(Rule="p1", EventBusName=bus_arn,
                                Targets=[{"Id": "im", "Arn": plan, "RoleArn": ROLE}])
        result = self.events.put_partner_events(Entries=[
            {"Source": name, "DetailType": "Alert", "Detail": '{"priority":"P1"}',
             "Resources": ["arn:aws:ecs:us-east-1:%s:service/checkout" % ACCOUNT]},
            {"Source": name, "DetailType": "Alert", "Detail": '{"priority":"P4"}'},
            {"Source": "aws.partner/other.example.com/1/x", "DetailType": "A", "Detail": "{}"},
        ])
        self.assertEqual(result["FailedEntryCount"], 1)
        self.assertEqual(result["Entries"][2]["ErrorCode"], "NotAuthorizedForSourceException")
        found = wait_for(lambda: self.incidents_of(plan))
        self.assertEqual(len(found), 1)
        rec = self.im.get_incident_record(arn=found[0]["arn"])["incidentRecord"]
        self.assertEqual(rec["dedupeString"], rule_arn)

        self.events.remove_targets(Rule="p1", EventBusName=name, Ids=["im"])
        self.events.delete_rule(Name="p1", EventBusName=name)
        self.events.delete_event_bus(Name=name)
        self.assertEqual(self.events.describe_event_source(Name=name)["State"], "PENDING")
        self.events.delete_partner_event_source(Name=name, Account=ACCOUNT)
        self.assertEqual(self.events.describe_event_source(Name=name)["State"], "DELETED")
        with self.assertRaises(self.events.exceptions.ResourceNotFoundException):
            self.events.describe_partner_event_source(Name=name)

    def test_webhook_receives_transformed_input(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            rule = "hook-" + uuid.uuid4().hex[:8]
            self.events.put_rule(Name=rule, EventPattern=EC2_PATTERN)
            url = "http://127.0.0.1:%d/alerts/*" % server.server_address[1]
            result = self.events.put_targets(Rule=rule, Targets=[{
                "Id": "hook", "Arn": url,
                "InputTransformer": {
                    "InputPathsMap": {"instance": "$.detail.instance-id", "state": "$.detail.state"},
                    "InputTemplate": '{"text": "Instance <instance> is <state>", '
                                     '"rule": <aws.events.rule-name>, "state": <state>}'},
                "HttpParameters": {"PathParameterValues": ["ec2"],
                                   "HeaderParameters": {"X-Team": "sre"},
                                   "QueryStringParameters": {"source": "klaxon"}},
            }])
            self.assertEqual(result["FailedEntryCount"], 0)
            self.events.put_events(Entries=[ec2_event("stopped")])
            self.assertTrue(wait_for(lambda: Hook.received))
            got = Hook.received[0]
            self.assertEqual(got["path"], "/alerts/ec2?source=klaxon")
            self.assertEqual(json.loads(got["body"]), {
                "text": "Instance i-0abcd1234ef567890 is stopped", "rule": rule, "state": "stopped"})
            self.assertEqual(got["headers"]["X-Team"], "sre")
            self.assertTrue(got["headers"]["Content-Type"].startswith("application/json"))
            self.events.remove_targets(Rule=rule, Ids=["hook"])
            self.events.delete_rule(Name=rule)
        finally:
            server.shutdown()
            server.server_close()


if __name__ == "__main__":
    unittest.main()
