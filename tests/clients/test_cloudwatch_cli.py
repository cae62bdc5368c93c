"""Every CloudWatch operation through the stock Debian `aws` CLI (/usr/bin/aws 2.9.19, query
protocol), errors included, and an alarm starting an incident.

`make test` runs it a second time with the newer aws CLI v1 first on PATH (KLAXON_AWS_CLI), whose
botocore speaks CloudWatch's JSON 1.0 protocol instead."""

import json
import os
import time
import unittest
import uuid

from klaxon_harness import ACCOUNT, REGION, NodeTestCase, wait_for

os.environ["KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS"] = "200"


class CloudWatchCliTest(NodeTestCase):

    def test_every_operation(self):
        suffix = uuid.uuid4().hex[:8]
        ns = "Cli" + suffix
        # Metrics.
        self.aws("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-data",
                 json.dumps([{"MetricName": "Errors", "Value": 3, "Unit": "Count",
                              "Dimensions": [{"Name": "Svc", "Value": "api"}]},
                             {"MetricName": "Errors", "Values": [1, 2], "Counts": [1, 3],
                              "Unit": "Count", "Dimensions": [{"Name": "Svc", "Value": "api"}]}]))
        now = int(time.time())
        stats = self.aws("cloudwatch", "get-metric-statistics", "--namespace", ns, "--metric-name",
                         "Errors", "--dimensions", "Name=Svc,Value=api", "--start-time",
                         str(now - 300), "--end-time", str(now + 60), "--period", "60",
                         "--statistics", "Sum", "SampleCount", "--extended-statistics", "p90")
        total = sum(d["Sum"] for d in stats["Datapoints"])
        self.assertEqual(total, 10.0)
        self.assertEqual(sum(d["SampleCount"] for d in stats["Datapoints"]), 5.0)
        data = self.aws("cloudwatch", "get-metric-data", "--start-time", str(now - 300),
                        "--end-time", str(now + 60), "--metric-data-queries", json.dumps([
                            {"Id": "e", "MetricStat": {"Metric": {
                                "Namespace": ns, "MetricName": "Errors",
                                "Dimensions": [{"Name": "Svc", "Value": "api"}]},
                                "Period": 60, "Stat": "Sum"}, "ReturnData": False},
                            {"Id": "total", "Expression": "SUM(METRICS())"}]))
        self.assertEqual(sum(data["MetricDataResults"][0]["Values"]), 10.0)
        listed = self.aws("cloudwatch", "list-metrics", "--namespace", ns)["Metrics"]
        self.assertEqual(listed, [{"Namespace": ns, "MetricName": "Errors",
                                   "Dimensions": [{"Name": "Svc", "Value": "api"}]}])

        # Alarms.
        self.aws("ssm-incidents", "create-replication-set", "--regions", '{"%s":{}}' % REGION)
        for _ in range(50):
            sets = self.aws("ssm-incidents", "list-replication-sets")["replicationSetArns"]
            rs = self.aws("ssm-incidents", "get-replication-set", "--arn", sets[0])
            if rs["replicationSet"]["status"] == "ACTIVE":
                break
            time.sleep(0.1)
        self.aws("ssm-incidents", "create-response-plan", "--name", "cli-plan",
                 "--incident-template", '{"title":"Errors","impact":3}')
        alarm = "cli-errors-" + suffix
        arn = "arn:aws:cloudwatch:%s:%s:alarm:%s" % (REGION, ACCOUNT, alarm)
        # The alarm watches a metric without data and keeps its state when data is missing, so
        # that the state set below holds.
        self.aws("cloudwatch", "put-metric-alarm", "--alarm-name", alarm, "--metric-name",
                 "Quiet", "--namespace", ns, "--statistic", "Sum", "--dimensions",
                 "Name=Svc,Value=api", "--period", "60", "--evaluation-periods", "1",
                 "--threshold", "1000", "--comparison-operator", "GreaterThanThreshold",
                 "--treat-missing-data", "ignore",
                 "--alarm-actions", "arn:aws:ssm-incidents::%s:responseplan/cli-plan" % ACCOUNT,
                 "--tags", "Key=a,Value=b")
        got = self.aws("cloudwatch", "describe-alarms", "--alarm-names", alarm)["MetricAlarms"]
        self.assertEqual(got[0]["AlarmArn"], arn)
        self.assertEqual(got[0]["Threshold"], 1000.0)
        self.aws("cloudwatch", "wait", "alarm-exists", "--alarm-names", alarm)
        self.aws("cloudwatch", "put-composite-alarm", "--alarm-name", alarm + "-c",
                 "--alarm-rule", "ALARM(%s)" % alarm)
        comp = self.aws("cloudwatch", "describe-alarms", "--alarm-types", "CompositeAlarm",
                        "--alarm-names", alarm + "-c")["CompositeAlarms"]
        self.assertEqual(comp[0]["AlarmRule"], "ALARM(%s)" % alarm)
        for_metric = self.aws("cloudwatch", "describe-alarms-for-metric", "--metric-name",
                              "Quiet", "--namespace", ns, "--dimensions",
                              "Name=Svc,Value=api")["MetricAlarms"]
        self.assertEqual([a["AlarmName"] for a in for_metric], [alarm])

        self.aws("cloudwatch", "set-alarm-state", "--alarm-name", alarm, "--state-value", "ALARM",
                 "--state-reason", "cli test")
        incidents = wait_for(lambda: self.aws("ssm-incidents", "list-incident-records")[
            "incidentRecordSummaries"], interval=0.1)
        self.assertEqual(len(incidents), 1)
        self.assertEqual(incidents[0]["incidentRecordSource"]["source"], "aws.cloudwatch")
        comp = self.aws("cloudwatch", "describe-alarms", "--alarm-types", "CompositeAlarm",
                        "--state-value", "ALARM")["CompositeAlarms"]
        self.assertEqual([c["AlarmName"] for c in comp], [alarm + "-c"])

        history = self.aws("cloudwatch", "describe-alarm-history", "--alarm-name", alarm,
                           "--history-item-type", "StateUpdate")["AlarmHistoryItems"]
        self.assertEqual(history[0]["HistorySummary"], "Alarm updated from INSUFFICIENT_DATA to ALARM")
        self.aws("cloudwatch", "disable-alarm-actions", "--alarm-names", alarm)
        self.aws("cloudwatch", "enable-alarm-actions", "--alarm-names", alarm)
        self.aws("cloudwatch", "tag-resource", "--resource-arn", arn, "--tags", "Key=c,Value=d")
        self.aws("cloudwatch", "untag-resource", "--resource-arn", arn, "--tag-keys", "a")
        tags = self.aws("cloudwatch", "list-tags-for-resource", "--resource-arn", arn)["Tags"]
        self.assertEqual(tags, [{"Key": "c", "Value": "d"}])

        # Errors, as the query protocol's codes.
        self.aws("cloudwatch", "set-alarm-state", "--alarm-name", "missing-" + suffix,
                 "--state-value", "OK", "--state-reason", "x", expect_error="ResourceNotFound")
        self.aws("cloudwatch", "set-alarm-state", "--alarm-name", alarm, "--state-value", "OK",
                 "--state-reason", "x", "--state-reason-data", "{bad",
                 expect_error="InvalidFormat")
        self.aws("cloudwatch", "put-metric-alarm", "--alarm-name", alarm, "--metric-name", "m",
                 "--namespace", ns, "--statistic", "Sum", "--period", "60",
                 "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator",
                 "GreaterThanThreshold", "--alarm-actions",
                 "arn:aws:sns:%s:%s:topic" % (REGION, ACCOUNT), expect_error="ValidationError")
        self.aws("cloudwatch", "put-metric-data", "--namespace", ns, "--metric-data",
                 '[{"MetricName":"m","Value":1,"StorageResolution":3}]',
                 expect_error="InvalidParameterValue")
        self.aws("cloudwatch", "list-tags-for-resource", "--resource-arn", arn + "-nope",
                 expect_error="ResourceNotFoundException")

        self.aws("cloudwatch", "delete-alarms", "--alarm-names", alarm + "-c", alarm)
        self.assertEqual(self.aws("cloudwatch", "describe-alarms", "--alarm-names",
                                  alarm)["MetricAlarms"], [])

    def test_credential_scoped_to_another_region(self):
        # The node serves us-east-1: a request signed for eu-west-1 is refused, with the query
        # protocol's code.
        stderr = self.aws("cloudwatch", "list-metrics", "--region", "eu-west-1",
                          expect_error="SignatureDoesNotMatch")
        self.assertIn("eu-west-1", stderr)


if __name__ == "__main__":
    unittest.main()
