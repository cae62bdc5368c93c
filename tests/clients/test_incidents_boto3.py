"""Incident Manager and OpsCenter end to end through boto3 against a live klaxon.

Runs under Debian's /usr/bin/python3 (boto3 1.26) and the newer python3 on PATH (boto3 1.43).
"""

import concurrent.futures
import json
import unittest
import uuid

import botocore.exceptions

from klaxon_harness import ACCOUNT, NodeTestCase, StormTestCase, create_replication_set, plan_arn


class IncidentManagerTest(NodeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.replication_set_arn = create_replication_set(cls.boto(cls, "ssm-incidents"))

    def setUp(self):
        self.im = self.boto("ssm-incidents")
        self.ssm = self.boto("ssm")

    def make_plan(self, dedupe=None, **template):
        name = "plan-" + uuid.uuid4().hex[:10]
        incident_template = {"title": "DB down", "impact": 2}
        incident_template.update(template)
        if dedupe:
            incident_template["dedupeString"] = dedupe
        arn = self.im.create_response_plan(name=name, incidentTemplate=incident_template,
                                           displayName="Database down")["arn"]
        self.assertEqual(arn, plan_arn(name))
        return arn

    # --- authentication --------------------------------------------------------------

    def test_credential_scoped_to_another_region(self):
        # The node serves us-east-1: a request signed for eu-west-1 is refused at once (403,
        # not retried), through rest-json (ssm-incidents) and JSON 1.1 (ssm) alike.
        for service, call in (("ssm-incidents", "list_response_plans"),
                              ("ssm", "describe_ops_items")):
            with self.subTest(service=service):
                client = self.boto(service, region="eu-west-1")
                with self.assertRaises(botocore.exceptions.ClientError) as raised:
                    getattr(client, call)()
                response = raised.exception.response
                self.assertEqual(response["Error"]["Code"], "InvalidSignatureException")
                self.assertIn("eu-west-1", response["Error"]["Message"])
                self.assertEqual(response["ResponseMetadata"]["HTTPStatusCode"], 403)
                self.assertEqual(response["ResponseMetadata"]["RetryAttempts"], 0)

    # --- replication set -------------------------------------------------------------

    def test_replication_set(self):
        rs = self.im.get_replication_set(arn=self.replication_set_arn)["replicationSet"]
        self.assertEqual(rs["status"], "ACTIVE")
        self.assertIn("us-east-1", rs["regionMap"])
        self.assertEqual(rs["regionMap"]["us-east-1"]["status"], "ACTIVE")
        self.assertFalse(rs["deletionProtected"])
        self.assertEqual(self.im.list_replication_sets()["replicationSetArns"],
                         [self.replication_set_arn])
        with self.assertRaises(self.im.exceptions.ConflictException):
            self.im.create_replication_set(regions={"us-west-2": {}})
        self.im.update_deletion_protection(arn=self.replication_set_arn, deletionProtected=True)
        rs = self.im.get_replication_set(arn=self.replication_set_arn)["replicationSet"]
        self.assertTrue(rs["deletionProtected"])
        self.im.update_deletion_protection(arn=self.replication_set_arn, deletionProtected=False)
        with self.assertRaises(self.im.exceptions.ResourceNotFoundException):
            self.im.get_replication_set(
                arn="arn:aws:ssm-incidents::%s:replication-set/%s" % (ACCOUNT, uuid.uuid4()))

    # --- response plans --------------------------------------------------------------

    def test_response_plan_crud(self):
        arn = self.make_plan(dedupe="db", summary="s")
        plan = self.im.get_response_plan(arn=arn)
        self.assertEqual(plan["incidentTemplate"]["title"], "DB down")
        self.assertEqual(plan["incidentTemplate"]["impact"], 2)
        self.assertEqual(plan["incidentTemplate"]["dedupeString"], "db")
        self.assertEqual(plan["displayName"], "Database down")
        self.im.update_response_plan(arn=arn, incidentTemplateTitle="DB really down",
                                     incidentTemplateImpact=1)
        plan = self.im.get_response_plan(arn=arn)
        self.assertEqual(plan["incidentTemplate"]["title"], "DB really down")
        self.assertEqual(plan["incidentTemplate"]["impact"], 1)
        names = [p["name"] for p in self.im.get_paginator("list_response_plans").paginate()
                 .build_full_result()["responsePlanSummaries"]]
        self.assertIn(arn.split("/")[-1], names)
        self.im.delete_response_plan(arn=arn)
        with self.assertRaises(self.im.exceptions.ResourceNotFoundException) as ctx:
            self.im.get_response_plan(arn=arn)
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ResourceNotFoundException")

    def test_response_plan_validation(self):
        with self.assertRaises(self.im.exceptions.ValidationException) as ctx:
            self.im.create_response_plan(name="bad name!", incidentTemplate={"title": "t", "impact": 1})
        self.assertIn("name", str(ctx.exception))
        with self.assertRaises(self.im.exceptions.ValidationException):
            self.im.create_response_plan(name="impact-9", incidentTemplate={"title": "t", "impact": 9})
        name = "dup-" + uuid.uuid4().hex[:8]
        self.im.create_response_plan(name=name, incidentTemplate={"title": "t", "impact": 1})
        with self.assertRaises(self.im.exceptions.ConflictException):
            self.im.create_response_plan(name=name, incidentTemplate={"title": "t", "impact": 1})

    # --- incidents -------------------------------------------------------------------

    def test_start_incident_manual(self):
        plan = self.make_plan()
        arn = self.im.start_incident(responsePlanArn=plan, title="Primary DB unreachable")[
            "incidentRecordArn"]
        self.assertTrue(arn.startswith("arn:aws:ssm-incidents::%s:incident-record/%s/"
                                       % (ACCOUNT, plan.split("/")[-1])))
        rec = self.im.get_incident_record(arn=arn)["incidentRecord"]
        self.assertEqual(rec["title"], "Primary DB unreachable")
        self.assertEqual(rec["impact"], 2)
        self.assertEqual(rec["status"], "OPEN")
        self.assertEqual(rec["incidentRecordSource"]["source"], "aws.ssm-incidents.custom")
        self.assertTrue(rec["dedupeString"])
        # A manual incident without a plan dedupeString never dedups.
        arn2 = self.im.start_incident(responsePlanArn=plan)["incidentRecordArn"]
        self.assertNotEqual(arn, arn2)
        self.assertEqual(self.im.get_incident_record(arn=arn2)["incidentRecord"]["title"], "DB down")

        items = self.im.list_related_items(incidentRecordArn=arn)["relatedItems"]
        parents = [i for i in items if i["identifier"]["type"] == "PARENT"]
        self.assertEqual(len(parents), 1)
        opsitem_arn = parents[0]["identifier"]["value"]["arn"]
        opsitem_id = opsitem_arn.split("/")[-1]
        ops = self.ssm.get_ops_item(OpsItemId=opsitem_id)["OpsItem"]
        self.assertEqual(ops["Title"], "Primary DB unreachable")
        related = self.ssm.list_ops_item_related_items(OpsItemId=opsitem_id)["Summaries"]
        self.assertTrue(any(r["ResourceUri"] == arn and r["AssociationType"] == "IsParentOf"
                            for r in related), related)

        events = self.im.list_timeline_events(incidentRecordArn=arn)["eventSummaries"]
        types = sorted(e["eventType"] for e in events)
        self.assertIn("SSM Incident Start", types)
        self.assertIn("SSM Incident Trigger", types)

    def test_dedup_and_resolve(self):
        plan = self.make_plan(dedupe="db-" + uuid.uuid4().hex[:6])
        first = self.im.start_incident(responsePlanArn=plan)["incidentRecordArn"]
        second = self.im.start_incident(responsePlanArn=plan)["incidentRecordArn"]
        self.assertEqual(first, second)
        triggers = [e for e in self.im.list_timeline_events(incidentRecordArn=first)["eventSummaries"]
                    if e["eventType"] == "SSM Incident Trigger"]
        self.assertEqual(len(triggers), 2)
        datas = [json.loads(self.im.get_timeline_event(incidentRecordArn=first, eventId=t["eventId"])
                            ["event"]["eventData"]) for t in triggers]
        self.assertEqual(sorted(d["createdIncident"] for d in datas), [False, True])
        parents = [i for i in self.im.list_related_items(incidentRecordArn=first)["relatedItems"]
                   if i["identifier"]["type"] == "PARENT"]
        self.assertEqual(len(parents), 1)

        self.im.update_incident_record(arn=first, status="RESOLVED")
        rec = self.im.get_incident_record(arn=first)["incidentRecord"]
        self.assertEqual(rec["status"], "RESOLVED")
        self.assertIn("resolvedTime", rec)
        third = self.im.start_incident(responsePlanArn=plan)["incidentRecordArn"]
        self.assertNotEqual(third, first)

    def test_dedup_race(self):
        plan = self.make_plan(dedupe="race-" + uuid.uuid4().hex[:6])

        def start(_):
            return self.boto("ssm-incidents").start_incident(responsePlanArn=plan)["incidentRecordArn"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
            arns = set(pool.map(start, range(40)))
        self.assertEqual(len(arns), 1)

    def test_client_token_idempotency(self):
        plan = self.make_plan()
        token = str(uuid.uuid4())
        a = self.im.start_incident(responsePlanArn=plan, clientToken=token)["incidentRecordArn"]
        b = self.im.start_incident(responsePlanArn=plan, clientToken=token)["incidentRecordArn"]
        self.assertEqual(a, b)

    def test_start_incident_errors(self):
        with self.assertRaises(self.im.exceptions.ResourceNotFoundException) as ctx:
            self.im.start_incident(responsePlanArn=plan_arn("no-such-plan"))
        err = ctx.exception.response
        self.assertEqual(err["resourceType"] if "resourceType" in err else
                         err.get("Error", {}).get("resourceType", "RESPONSE_PLAN"), "RESPONSE_PLAN")
        with self.assertRaises(self.im.exceptions.ValidationException):
            self.im.start_incident(responsePlanArn="not-an-arn")
        with self.assertRaises(self.im.exceptions.ValidationException):
            self.im.start_incident(responsePlanArn=self.make_plan(), impact=7)

    def test_trigger_details_and_related_items(self):
        plan = self.make_plan()
        arn = self.im.start_incident(
            responsePlanArn=plan, impact=1, title="Disk full",
            triggerDetails={"source": "com.example.monitor",
                            "triggerArn": "arn:aws:cloudwatch:us-east-1:%s:alarm:a1" % ACCOUNT,
                            "timestamp": 1704067200, "rawData": "{\"x\":1}"},
            relatedItems=[{"identifier": {"type": "OTHER", "value": {"url": "https://runbook.example/db"}},
                           "title": "runbook"}])["incidentRecordArn"]
        rec = self.im.get_incident_record(arn=arn)["incidentRecord"]
        self.assertEqual(rec["impact"], 1)
        items = self.im.list_related_items(incidentRecordArn=arn)["relatedItems"]
        urls = [i["identifier"]["value"].get("url") for i in items]
        self.assertIn("https://runbook.example/db", urls)
        for item in items:
            self.assertRegex(item["generatedId"], r"^related-item/[A-Z_]+/[0-9A-F]{32}$")

        self.im.update_related_items(incidentRecordArn=arn, relatedItemsUpdate={
            "itemToAdd": {"identifier": {"type": "ATTACHMENT", "value": {"url": "https://x.example/a"}},
                          "title": "attachment"}})
        self.im.update_related_items(incidentRecordArn=arn, relatedItemsUpdate={
            "itemToRemove": {"type": "OTHER", "value": {"url": "https://runbook.example/db"}}})
        urls = [i["identifier"]["value"].get("url")
                for i in self.im.list_related_items(incidentRecordArn=arn)["relatedItems"]]
        self.assertIn("https://x.example/a", urls)
        self.assertNotIn("https://runbook.example/db", urls)

    def test_list_incident_records_filters_and_pagination(self):
        plan = self.make_plan()
        arns = [self.im.start_incident(responsePlanArn=plan, impact=5, title="low %d" % i)[
            "incidentRecordArn"] for i in range(5)]
        self.im.update_incident_record(arn=arns[0], status="RESOLVED")
        out = self.im.list_incident_records(filters=[
            {"key": "impact", "condition": {"equals": {"integerValues": [5]}}},
            {"key": "status", "condition": {"equals": {"stringValues": ["OPEN"]}}}])
        got = {s["arn"] for s in out["incidentRecordSummaries"]}
        self.assertTrue(set(arns[1:]) <= got)
        self.assertNotIn(arns[0], got)
        pages = list(self.im.get_paginator("list_incident_records").paginate(
            filters=[{"key": "impact", "condition": {"equals": {"integerValues": [5]}}}],
            PaginationConfig={"PageSize": 2}))
        self.assertGreater(len(pages), 1)
        all_arns = [s["arn"] for p in pages for s in p["incidentRecordSummaries"]]
        self.assertEqual(len(all_arns), len(set(all_arns)))
        self.assertTrue(set(arns) <= set(all_arns))
        after = self.im.list_incident_records(filters=[
            {"key": "creationTime", "condition": {"after": 4102444800}}])["incidentRecordSummaries"]
        self.assertEqual(after, [])

    def test_timeline_events(self):
        arn = self.im.start_incident(responsePlanArn=self.make_plan())["incidentRecordArn"]
        eid = self.im.create_timeline_event(incidentRecordArn=arn, eventTime=1704067200,
                                            eventType="Custom Event", eventData='"hello"')["eventId"]
        ev = self.im.get_timeline_event(incidentRecordArn=arn, eventId=eid)["event"]
        self.assertEqual(ev["eventData"], '"hello"')
        self.im.update_timeline_event(incidentRecordArn=arn, eventId=eid, eventData='"bye"')
        self.assertEqual(self.im.get_timeline_event(incidentRecordArn=arn, eventId=eid)["event"]
                         ["eventData"], '"bye"')
        asc = self.im.list_timeline_events(incidentRecordArn=arn, sortBy="EVENT_TIME",
                                           sortOrder="ASCENDING")["eventSummaries"]
        times = [e["eventTime"] for e in asc]
        self.assertEqual(times, sorted(times))
        self.assertEqual(asc[0]["eventId"], eid)
        custom = self.im.list_timeline_events(incidentRecordArn=arn, filters=[
            {"key": "eventType", "condition": {"equals": {"stringValues": ["Custom Event"]}}}])
        self.assertEqual([e["eventId"] for e in custom["eventSummaries"]], [eid])
        self.im.delete_timeline_event(incidentRecordArn=arn, eventId=eid)
        with self.assertRaises(self.im.exceptions.ResourceNotFoundException):
            self.im.get_timeline_event(incidentRecordArn=arn, eventId=eid)

    def test_tags_and_policies(self):
        plan = self.make_plan()
        self.im.tag_resource(resourceArn=plan, tags={"team": "db", "env": "prod"})
        self.assertEqual(self.im.list_tags_for_resource(resourceArn=plan)["tags"],
                         {"team": "db", "env": "prod"})
        self.im.untag_resource(resourceArn=plan, tagKeys=["env"])
        self.assertEqual(self.im.list_tags_for_resource(resourceArn=plan)["tags"], {"team": "db"})
        with self.assertRaises(self.im.exceptions.ResourceNotFoundException):
            self.im.list_tags_for_resource(resourceArn=plan_arn("nope-" + uuid.uuid4().hex[:6]))
        policy = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
            "Action": "ssm-incidents:GetResponsePlan", "Resource": plan}]})
        pid = self.im.put_resource_policy(resourceArn=plan, policy=policy)["policyId"]
        got = self.im.get_resource_policies(resourceArn=plan)["resourcePolicies"]
        self.assertEqual([p["policyId"] for p in got], [pid])
        self.im.delete_resource_policy(resourceArn=plan, policyId=pid)
        self.assertEqual(self.im.get_resource_policies(resourceArn=plan)["resourcePolicies"], [])

    def test_delete_incident_record(self):
        arn = self.im.start_incident(responsePlanArn=self.make_plan())["incidentRecordArn"]
        self.im.delete_incident_record(arn=arn)
        with self.assertRaises(self.im.exceptions.ResourceNotFoundException):
            self.im.get_incident_record(arn=arn)


class OpsCenterTest(NodeTestCase):

    def setUp(self):
        self.ssm = self.boto("ssm")

    def test_ops_item_lifecycle(self):
        oid = self.ssm.create_ops_item(Title="Disk almost full", Description="d", Source="monitoring",
                                       Priority=2, Severity="2")["OpsItemId"]
        self.assertRegex(oid, r"^oi-[0-9a-f]{12}$")
        item = self.ssm.get_ops_item(OpsItemId=oid)["OpsItem"]
        self.assertEqual(item["Status"], "Open")
        self.assertEqual(item["Priority"], 2)
        self.ssm.update_ops_item(OpsItemId=oid, Status="Resolved")
        self.assertEqual(self.ssm.get_ops_item(OpsItemId=oid)["OpsItem"]["Status"], "Resolved")
        found = self.ssm.describe_ops_items(OpsItemFilters=[
            {"Key": "Status", "Values": ["Resolved"], "Operator": "Equal"}])["OpsItemSummaries"]
        self.assertIn(oid, [s["OpsItemId"] for s in found])

    def test_ops_item_errors(self):
        with self.assertRaises(self.ssm.exceptions.OpsItemNotFoundException):
            self.ssm.get_ops_item(OpsItemId="oi-000000000000")
        with self.assertRaises(self.ssm.exceptions.OpsItemInvalidParameterException):
            self.ssm.create_ops_item(Title="t", Description="d", Source="aws.custom")

    def test_ops_center_dedup(self):
        data = {"/aws/dedup": {"Value": json.dumps({"dedupString": "disk-" + uuid.uuid4().hex[:6]}),
                               "Type": "SearchableString"}}
        a = self.ssm.create_ops_item(Title="t", Description="d", Source="mon",
                                     OperationalData=data)["OpsItemId"]
        b = self.ssm.create_ops_item(Title="t", Description="d", Source="mon",
                                     OperationalData=data)["OpsItemId"]
        self.assertEqual(a, b)


class StormTest(StormTestCase):
    """A storm into one open incident whose timeline is full (the limit lowered to 4 events by
    the node's config): boto3 sends its own clientToken with every call, so each call is answered
    from memory and only its token is recorded."""

    def test_storm_with_a_client_token_per_call(self):
        im = self.boto("ssm-incidents")
        plan = im.create_response_plan(
            name="storm", incidentTemplate={"title": "Storm", "impact": 3,
                                            "dedupeString": "storm"})["arn"]
        first = im.start_incident(responsePlanArn=plan)["incidentRecordArn"]
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            arns = set(pool.map(
                lambda _: im.start_incident(responsePlanArn=plan)["incidentRecordArn"],
                range(60)))
        self.assertEqual(arns, {first})
        events = im.list_timeline_events(incidentRecordArn=first)["eventSummaries"]
        self.assertEqual(len(events), 4)  # start, first trigger, two duplicates; the rest dropped

        # A token used in the storm replays, also after the incident is resolved; the same
        # token with other parameters is a conflict; a new call opens a new incident.
        token = str(uuid.uuid4())
        self.assertEqual(im.start_incident(responsePlanArn=plan,
                                           clientToken=token)["incidentRecordArn"], first)
        im.update_incident_record(arn=first, status="RESOLVED")
        self.assertEqual(im.start_incident(responsePlanArn=plan,
                                           clientToken=token)["incidentRecordArn"], first)
        with self.assertRaises(im.exceptions.ConflictException):
            im.start_incident(responsePlanArn=plan, clientToken=token, title="Other")
        fresh = im.start_incident(responsePlanArn=plan)["incidentRecordArn"]
        self.assertNotEqual(fresh, first)
        self.assertEqual(
            im.get_incident_record(arn=first)["incidentRecord"]["status"], "RESOLVED")


if __name__ == "__main__":
    unittest.main()
