"""CloudWatch metrics and alarms through boto3 against a live klaxon.

Runs under Debian's /usr/bin/python3 (boto3 1.26: the query protocol, form + XML) and the newer
python3 on PATH (boto3 1.43: JSON 1.0 with query compatibility). Every operation, the errors
each client maps to its modeled exception, and the alarm → incident path (SetAlarmState, and
PutMetricData evaluated by the scheduler, which the node runs every 200 ms here).
"""

import datetime
import json
import os
import unittest
import uuid

import botocore
import botocore.exceptions

from klaxon_harness import ACCOUNT, REGION, NodeTestCase, create_replication_set, wait_for

os.environ["KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS"] = "200"

UTC = datetime.timezone.utc


def protocol():
    major, minor = (int(x) for x in botocore.__version__.split(".")[:2])
    return "query" if (major, minor) < (1, 32) else "json"


class CloudWatchTest(NodeTestCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        create_replication_set(cls.boto(cls, "ssm-incidents"))

    def setUp(self):
        self.cw = self.boto("cloudwatch")
        self.im = self.boto("ssm-incidents")
        self.ssm = self.boto("ssm")

    def name(self, prefix):
        return "%s-%s" % (prefix, uuid.uuid4().hex[:8])

    def plan(self, dedupe=None):
        name = self.name("plan")
        template = {"title": "Alarm incident", "impact": 2}
        if dedupe:
            template["dedupeString"] = dedupe
        self.im.create_response_plan(name=name, incidentTemplate=template)
        return name

    def triggers(self, incident_arn):
        """The incident's "SSM Incident Trigger" timeline event summaries."""
        events = self.im.list_timeline_events(incidentRecordArn=incident_arn)["eventSummaries"]
        return [e for e in events if e["eventType"] == "SSM Incident Trigger"]

    def trigger_raw(self, incident_arn):
        """The event (parsed rawData) behind the incident's first trigger."""
        first = self.triggers(incident_arn)[0]["eventId"]
        event = self.im.get_timeline_event(incidentRecordArn=incident_arn, eventId=first)["event"]
        return json.loads(json.loads(event["eventData"])["rawData"])

    def state(self, alarm, types=("MetricAlarm",)):
        r = self.cw.describe_alarms(AlarmNames=[alarm], AlarmTypes=list(types))
        alarms = r["MetricAlarms"] + r["CompositeAlarms"]
        return alarms[0]["StateValue"] if alarms else None

    def incidents_for(self, alarm_arn):
        records = self.im.list_incident_records()["incidentRecordSummaries"]
        out = []
        for r in records:
            rec = self.im.get_incident_record(arn=r["arn"])["incidentRecord"]
            if rec["incidentRecordSource"].get("resourceArn") == alarm_arn:
                out.append(rec)
        return out

    # --- metrics ---------------------------------------------------------------------

    def test_metrics_put_get_list(self):
        ns = self.name("App")
        now = datetime.datetime.now(UTC).replace(second=0, microsecond=0)
        t0 = now - datetime.timedelta(minutes=10)
        dims = [{"Name": "Service", "Value": "api"}]
        self.cw.put_metric_data(Namespace=ns, MetricData=[
            {"MetricName": "Latency", "Dimensions": dims, "Timestamp": t0, "Value": 10,
             "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": dims,
             "Timestamp": t0 + datetime.timedelta(seconds=5),
             "Values": [20, 30], "Counts": [1, 2], "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": dims,
             "Timestamp": t0 + datetime.timedelta(seconds=10),
             "StatisticValues": {"SampleCount": 2, "Sum": 100, "Minimum": 50, "Maximum": 50},
             "Unit": "Milliseconds"},
            {"MetricName": "HighRes", "Timestamp": t0, "Value": 1, "StorageResolution": 1},
        ])
        stats = self.cw.get_metric_statistics(
            Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0,
            EndTime=t0 + datetime.timedelta(minutes=5), Period=300,
            Statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum"])
        self.assertEqual(stats["Label"], "Latency")
        self.assertEqual(len(stats["Datapoints"]), 1)
        dp = stats["Datapoints"][0]
        self.assertEqual(dp["SampleCount"], 6.0)
        self.assertEqual(dp["Sum"], 190.0)
        self.assertEqual(dp["Minimum"], 10.0)
        self.assertEqual(dp["Maximum"], 50.0)
        self.assertEqual(dp["Unit"], "Milliseconds")
        self.assertEqual(dp["Timestamp"], t0)
        pct = self.cw.get_metric_statistics(
            Namespace=ns, MetricName="Latency", Dimensions=dims, StartTime=t0,
            EndTime=t0 + datetime.timedelta(minutes=5), Period=60,
            ExtendedStatistics=["p50", "p99"])["Datapoints"][0]
        self.assertEqual(pct["ExtendedStatistics"], {"p50": 30.0, "p99": 50.0})

        data = self.cw.get_metric_data(
            StartTime=t0, EndTime=t0 + datetime.timedelta(minutes=3),
            ScanBy="TimestampAscending",
            MetricDataQueries=[
                {"Id": "lat", "MetricStat": {
                    "Metric": {"Namespace": ns, "MetricName": "Latency", "Dimensions": dims},
                    "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                {"Id": "doubled", "Expression": "lat * 2", "Label": "Doubled"},
                {"Id": "hr", "MetricStat": {
                    "Metric": {"Namespace": ns, "MetricName": "HighRes"},
                    "Period": 60, "Stat": "SampleCount"}},
            ])
        results = {r["Id"]: r for r in data["MetricDataResults"]}
        self.assertEqual(set(results), {"doubled", "hr"})
        self.assertEqual(results["doubled"]["Label"], "Doubled")
        self.assertEqual(results["doubled"]["Values"], [380.0])
        self.assertEqual(results["doubled"]["Timestamps"], [t0])
        self.assertEqual(results["doubled"]["StatusCode"], "Complete")
        self.assertEqual(results["hr"]["Values"], [1.0])

        listed = self.cw.list_metrics(Namespace=ns)["Metrics"]
        self.assertEqual(sorted(m["MetricName"] for m in listed), ["HighRes", "Latency"])
        filtered = self.cw.list_metrics(Namespace=ns, Dimensions=[{"Name": "Service"}])["Metrics"]
        self.assertEqual([m["MetricName"] for m in filtered], ["Latency"])
        self.assertEqual(filtered[0]["Dimensions"], dims)
        paged = self.cw.get_paginator("list_metrics").paginate(Namespace=ns).build_full_result()
        self.assertEqual(len(paged["Metrics"]), 2)

    def test_metric_errors(self):
        with self.assertRaises(self.cw.exceptions.InvalidParameterCombinationException) as ctx:
            self.cw.put_metric_data(Namespace="A", MetricData=[
                {"MetricName": "m", "Value": 1, "StatisticValues": {
                    "SampleCount": 1, "Sum": 1, "Minimum": 1, "Maximum": 1}}])
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidParameterCombination")
        with self.assertRaises(self.cw.exceptions.InvalidParameterValueException) as ctx:
            self.cw.put_metric_data(Namespace="A", MetricData=[
                {"MetricName": "m", "Value": 1, "StorageResolution": 7}])
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidParameterValue")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        with self.assertRaises(self.cw.exceptions.MissingRequiredParameterException):
            self.cw.put_metric_data(Namespace="A", MetricData=[{"MetricName": "m"}])
        now = datetime.datetime.now(UTC)
        with self.assertRaises(self.cw.exceptions.InvalidParameterCombinationException):
            self.cw.get_metric_statistics(Namespace="A", MetricName="m", StartTime=now,
                                          EndTime=now + datetime.timedelta(days=30), Period=60,
                                          Statistics=["Sum"])
        with self.assertRaises(self.cw.exceptions.InvalidParameterValueException):
            self.cw.get_metric_statistics(Namespace="A", MetricName="m", StartTime=now,
                                          EndTime=now + datetime.timedelta(hours=1), Period=7,
                                          Statistics=["Sum"])

    # --- alarms ----------------------------------------------------------------------

    def test_alarm_crud_history_tags(self):
        name = self.name("cpu")
        plan = self.plan()
        action = "arn:aws:ssm-incidents::%s:responseplan/%s" % (ACCOUNT, plan)
        self.cw.put_metric_alarm(
            AlarmName=name, AlarmDescription="CPU high", AlarmActions=[action],
            OKActions=["arn:aws:ssm:%s:%s:opsitem:3#CATEGORY=Performance" % (REGION, ACCOUNT)],
            MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
            Dimensions=[{"Name": "InstanceId", "Value": "i-123"}], Period=60,
            EvaluationPeriods=3, DatapointsToAlarm=2, Threshold=80.0,
            ComparisonOperator="GreaterThanThreshold", TreatMissingData="ignore",
            ActionsEnabled=False, Tags=[{"Key": "team", "Value": "db"}])
        self.cw.get_waiter("alarm_exists").wait(AlarmNames=[name],
                                                WaiterConfig={"Delay": 1, "MaxAttempts": 5})
        alarm = self.cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        arn = "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, name)
        self.assertEqual(alarm["AlarmArn"], arn)
        self.assertEqual(alarm["AlarmDescription"], "CPU high")
        self.assertEqual(alarm["AlarmActions"], [action])
        self.assertEqual(alarm["Dimensions"], [{"Name": "InstanceId", "Value": "i-123"}])
        self.assertEqual(alarm["Threshold"], 80.0)
        self.assertEqual(alarm["EvaluationPeriods"], 3)
        self.assertEqual(alarm["DatapointsToAlarm"], 2)
        self.assertEqual(alarm["TreatMissingData"], "ignore")
        self.assertFalse(alarm["ActionsEnabled"])
        self.assertIsInstance(alarm["StateUpdatedTimestamp"], datetime.datetime)

        tags = self.cw.list_tags_for_resource(ResourceARN=arn)["Tags"]
        self.assertEqual(tags, [{"Key": "team", "Value": "db"}])
        self.cw.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
        self.cw.untag_resource(ResourceARN=arn, TagKeys=["team"])
        self.assertEqual(self.cw.list_tags_for_resource(ResourceARN=arn)["Tags"],
                         [{"Key": "env", "Value": "prod"}])
        with self.assertRaises(self.cw.exceptions.ResourceNotFoundException):
            self.cw.list_tags_for_resource(ResourceARN=arn + "-missing")

        # Actions disabled: the transition runs nothing.
        self.cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
        self.assertEqual(self.state(name), "ALARM")
        self.cw.enable_alarm_actions(AlarmNames=[name])
        self.assertTrue(self.cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
                        ["ActionsEnabled"])
        self.cw.disable_alarm_actions(AlarmNames=[name])

        for_metric = self.cw.describe_alarms_for_metric(
            MetricName="CPUUtilization", Namespace="AWS/EC2",
            Dimensions=[{"Name": "InstanceId", "Value": "i-123"}])["MetricAlarms"]
        self.assertIn(name, [a["AlarmName"] for a in for_metric])

        history = self.cw.describe_alarm_history(AlarmName=name)["AlarmHistoryItems"]
        summaries = [h["HistorySummary"] for h in history]
        self.assertIn("Alarm updated from INSUFFICIENT_DATA to ALARM", summaries)
        self.assertIn('Alarm "%s" created' % name, summaries)
        state_items = self.cw.describe_alarm_history(
            AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
        data = json.loads(state_items[0]["HistoryData"])
        self.assertEqual(data["newState"]["stateValue"], "ALARM")
        self.assertEqual(data["newState"]["stateReason"], "testing")
        self.assertEqual(state_items[0]["AlarmType"], "MetricAlarm")

        self.cw.delete_alarms(AlarmNames=[name])
        self.assertEqual(self.cw.describe_alarms(AlarmNames=[name])["MetricAlarms"], [])

    def test_alarm_errors(self):
        with self.assertRaises(self.cw.exceptions.ResourceNotFound) as ctx:
            self.cw.set_alarm_state(AlarmName="nope-" + uuid.uuid4().hex, StateValue="OK",
                                    StateReason="x")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ResourceNotFound")
        self.assertEqual(ctx.exception.response["ResponseMetadata"]["HTTPStatusCode"], 404)
        with self.assertRaises(self.cw.exceptions.ResourceNotFound):
            self.cw.delete_alarms(AlarmNames=["nope-" + uuid.uuid4().hex])
        name = self.name("err")
        self.cw.put_metric_alarm(AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum",
                                 Period=60, EvaluationPeriods=1, Threshold=1,
                                 ComparisonOperator="GreaterThanThreshold")
        with self.assertRaises(self.cw.exceptions.InvalidFormatFault) as ctx:
            self.cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="x",
                                    StateReasonData="{not json")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "InvalidFormat")
        # Unsupported action ARNs and invalid settings: the generic ValidationError.
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.cw.put_metric_alarm(
                AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                AlarmActions=["arn:aws:sns:%s:%s:topic" % (REGION, ACCOUNT)])
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")
        self.assertIn("arn:aws:sns", ctx.exception.response["Error"]["Message"])
        with self.assertRaises(botocore.exceptions.ClientError) as ctx:
            self.cw.put_metric_alarm(
                AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum", Period=45,
                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold")
        self.assertEqual(ctx.exception.response["Error"]["Code"], "ValidationError")
        with self.assertRaises(self.cw.exceptions.InvalidNextToken):
            self.cw.describe_alarms(NextToken="garbage")
        self.cw.delete_alarms(AlarmNames=[name])

    def test_describe_alarms_filters_and_pages(self):
        prefix = self.name("page")
        for i in range(5):
            self.cw.put_metric_alarm(AlarmName="%s-%d" % (prefix, i), MetricName="m",
                                     Namespace="n", Statistic="Sum", Period=60,
                                     EvaluationPeriods=1, Threshold=1, TreatMissingData="ignore",
                                     ComparisonOperator="GreaterThanThreshold")
        self.cw.set_alarm_state(AlarmName=prefix + "-3", StateValue="ALARM", StateReason="x")
        pages = list(self.cw.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=prefix, PaginationConfig={"PageSize": 2}))
        self.assertEqual(len(pages), 3)
        names = [a["AlarmName"] for p in pages for a in p["MetricAlarms"]]
        self.assertEqual(names, ["%s-%d" % (prefix, i) for i in range(5)])
        alarming = self.cw.describe_alarms(AlarmNamePrefix=prefix, StateValue="ALARM")
        self.assertEqual([a["AlarmName"] for a in alarming["MetricAlarms"]], [prefix + "-3"])

        composite = prefix + "-composite"
        self.cw.put_composite_alarm(
            AlarmName=composite, AlarmRule='ALARM("%s-3") OR ALARM(%s-4)' % (prefix, prefix),
            AlarmDescription="any")
        c = self.cw.describe_alarms(AlarmNames=[composite],
                                    AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]
        self.assertEqual(c["StateValue"], "ALARM")
        self.assertIn("was created and its alarm rule evaluates to ALARM", c["StateReason"])
        self.assertEqual(c["AlarmRule"], 'ALARM("%s-3") OR ALARM(%s-4)' % (prefix, prefix))
        children = self.cw.describe_alarms(ChildrenOfAlarmName=composite)
        self.assertEqual(sorted(a["AlarmName"] for a in children["MetricAlarms"]),
                         [prefix + "-3", prefix + "-4"])
        parents = self.cw.describe_alarms(ParentsOfAlarmName=prefix + "-4")
        self.assertEqual([a["AlarmName"] for a in parents["CompositeAlarms"]], [composite])
        self.cw.set_alarm_state(AlarmName=prefix + "-3", StateValue="OK", StateReason="x")
        c = self.cw.describe_alarms(AlarmNames=[composite],
                                    AlarmTypes=["CompositeAlarm"])["CompositeAlarms"][0]
        self.assertEqual(c["StateValue"], "OK")
        self.assertIn("alarm:%s-3 transitioned to OK at " % prefix, c["StateReason"])
        self.assertIn("triggeringAlarms", json.loads(c["StateReasonData"]))
        self.cw.delete_alarms(AlarmNames=[composite] + ["%s-%d" % (prefix, i) for i in range(5)])

    # --- the alarm → incident path -----------------------------------------------------

    def test_set_alarm_state_starts_incident_dedups_and_reopens(self):
        plan = self.plan()
        name = self.name("db")
        self.cw.put_metric_alarm(
            AlarmName=name, MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Maximum",
            Dimensions=[{"Name": "InstanceId", "Value": "i-0abc"}], Period=60,
            EvaluationPeriods=1, Threshold=90, ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="ignore", AlarmActions=["arn:aws:ssm-incidents::%s:responseplan/%s" % (ACCOUNT, plan)])
        arn = "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, name)
        self.cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="testing")
        incidents = wait_for(lambda: self.incidents_for(arn))
        self.assertEqual(len(incidents), 1)
        rec = incidents[0]
        self.assertEqual(rec["incidentRecordSource"]["source"], "aws.cloudwatch")
        self.assertEqual(rec["dedupeString"], arn)
        items = self.im.list_related_items(incidentRecordArn=rec["arn"])["relatedItems"]
        by_type = {i["identifier"]["type"]: i["identifier"]["value"]["arn"] for i in items}
        self.assertEqual(by_type["INVOLVED_RESOURCE"],
                         "arn:aws:ec2:%s:%s:instance/i-0abc" % (REGION, ACCOUNT))
        self.assertEqual(by_type["METRIC"], arn)
        self.assertIn("PARENT", by_type)
        raw = self.trigger_raw(rec["arn"])
        self.assertEqual(raw["detail-type"], "CloudWatch Alarm State Change")
        self.assertEqual(raw["detail"]["state"]["value"], "ALARM")
        self.assertEqual(raw["detail"]["state"]["reason"], "testing")
        self.assertEqual(raw["resources"], [arn])

        # OK and ALARM again: deduplicated into the open incident.
        self.cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="recovered")
        self.cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="again")
        wait_for(lambda: len(self.triggers(rec["arn"])) == 2)
        self.assertEqual(len(self.incidents_for(arn)), 1)

        # Resolved: the next transition into ALARM opens a new incident.
        self.im.update_incident_record(arn=rec["arn"], status="RESOLVED")
        self.cw.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="recovered")
        self.cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="third")
        wait_for(lambda: len(self.incidents_for(arn)) == 2)

        actions = self.cw.describe_alarm_history(AlarmName=name,
                                                 HistoryItemType="Action")["AlarmHistoryItems"]
        self.assertEqual(len(actions), 3)
        self.assertTrue(all(a["HistorySummary"].startswith("Successfully executed action")
                            for a in actions), actions)

    def test_put_metric_data_evaluation_starts_incident(self):
        plan = self.plan()
        name = self.name("errors")
        ns = self.name("Svc")
        self.cw.put_metric_alarm(
            AlarmName=name, MetricName="Errors", Namespace=ns, Statistic="Sum", Period=60,
            EvaluationPeriods=2, DatapointsToAlarm=2, Threshold=5,
            ComparisonOperator="GreaterThanOrEqualToThreshold", TreatMissingData="missing",
            AlarmActions=["arn:aws:ssm-incidents::%s:responseplan/%s" % (ACCOUNT, plan)])
        arn = "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, name)
        now = datetime.datetime.now(UTC).replace(second=0, microsecond=0)
        self.cw.put_metric_data(Namespace=ns, MetricData=[
            {"MetricName": "Errors", "Timestamp": now - datetime.timedelta(minutes=2), "Value": 7},
            {"MetricName": "Errors", "Timestamp": now - datetime.timedelta(minutes=1),
             "Values": [3, 4]},
        ])
        wait_for(lambda: self.state(name) == "ALARM")
        alarm = self.cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
        self.assertIn("Threshold Crossed: 2 out of the last 2 datapoints", alarm["StateReason"])
        self.assertIn("greater than or equal to the threshold (5.0)", alarm["StateReason"])
        reason_data = json.loads(alarm["StateReasonData"])
        self.assertEqual(reason_data["statistic"], "Sum")
        self.assertEqual(reason_data["period"], 60)
        self.assertEqual(reason_data["recentDatapoints"], [7.0, 7.0])
        incidents = wait_for(lambda: self.incidents_for(arn))
        self.assertEqual(incidents[0]["incidentRecordSource"]["invokedBy"],
                         "cloudwatch.amazonaws.com")

    def test_state_change_events_reach_eventbridge_rules(self):
        """Alarm events go to the default bus, where a rule can start an incident from them."""
        events = self.boto("events")
        plan = self.plan()
        name = self.name("evt")
        rule = self.name("cw-rule")
        events.put_rule(Name=rule, EventPattern=json.dumps({
            "source": ["aws.cloudwatch"], "detail-type": ["CloudWatch Alarm State Change"],
            "detail": {"alarmName": [name], "state": {"value": ["ALARM"]}}}))
        events.put_targets(Rule=rule, Targets=[{
            "Id": "im", "Arn": "arn:aws:ssm-incidents::%s:response-plan/%s" % (ACCOUNT, plan),
            "RoleArn": "arn:aws:iam::%s:role/EventBridgeStartIncident" % ACCOUNT}])
        self.cw.put_metric_alarm(
            AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="ignore")
        self.cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="via events")

        def from_events():
            for r in self.im.list_incident_records()["incidentRecordSummaries"]:
                rec = self.im.get_incident_record(arn=r["arn"])["incidentRecord"]
                if rec["incidentRecordSource"]["source"] == "aws.events" and \
                        ":incident-record/%s/" % plan in rec["arn"]:
                    return rec
            return None
        rec = wait_for(from_events)
        raw = self.trigger_raw(rec["arn"])
        self.assertEqual(raw["detail-type"], "CloudWatch Alarm State Change")
        self.assertEqual(raw["detail"]["alarmName"], name)
        self.assertEqual(raw["detail"]["state"]["reason"], "via events")
        self.assertEqual(raw["resources"], ["arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, name)])

    def test_opsitem_action(self):
        name = self.name("ops")
        self.cw.put_metric_alarm(
            AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum", Period=60,
            EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="ignore",
            AlarmActions=["arn:aws:ssm:%s:%s:opsitem:2#CATEGORY=Availability" % (REGION, ACCOUNT)])
        self.cw.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="x")

        def find():
            items = self.ssm.describe_ops_items(OpsItemFilters=[
                {"Key": "Source", "Values": ["CloudWatch Alarm"], "Operator": "Equal"}])
            return [i for i in items["OpsItemSummaries"] if name in i["Title"]]
        items = wait_for(find)
        self.assertEqual(items[0]["Severity"], "2")
        self.assertEqual(items[0]["Category"], "Availability")


if __name__ == "__main__":
    unittest.main()
