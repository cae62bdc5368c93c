"""kill -9 during a stream of PutMetricData calls: every acknowledged datapoint is counted exactly
once after the restart (the metric log and checkpoints), alarms and their state survive, and an
alarm's incident is neither lost nor doubled."""

import datetime
import os
import threading
import time
import unittest

from klaxon_harness import ACCOUNT, boto_client, running_node, wait_for

os.environ["KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS"] = "200"


class CloudWatchCrashTest(unittest.TestCase):

    def test_kill9_during_put_metric_data(self):
        with running_node() as node:
            cw = boto_client(node, "cloudwatch")
            im = boto_client(node, "ssm-incidents")
            im.create_replication_set(regions={node.region: {}})
            im.create_response_plan(name="crash", incidentTemplate={"title": "t", "impact": 3})
            cw.put_metric_alarm(
                AlarmName="crash-alarm", MetricName="Other", Namespace="Crash", Statistic="Sum",
                Period=60, EvaluationPeriods=1, Threshold=1, TreatMissingData="ignore",
                ComparisonOperator="GreaterThanThreshold",
                AlarmActions=["arn:aws:ssm-incidents::%s:responseplan/crash" % ACCOUNT])
            cw.set_alarm_state(AlarmName="crash-alarm", StateValue="ALARM", StateReason="crash")

            stamp = datetime.datetime.now(datetime.timezone.utc).replace(
                second=0, microsecond=0) - datetime.timedelta(minutes=5)
            acked = [0]  # datapoints acknowledged
            lock = threading.Lock()
            stop = threading.Event()

            def worker(n):
                c = boto_client(node, "cloudwatch")
                while not stop.is_set():
                    try:
                        c.put_metric_data(Namespace="Crash", MetricData=[
                            {"MetricName": "Count", "Timestamp": stamp,
                             "Dimensions": [{"Name": "W", "Value": str(n)}],
                             "Values": [1.0] * 10} for _ in range(20)])
                    except Exception:  # the server went away mid-call: not acknowledged
                        return
                    with lock:
                        acked[0] += 200

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            # Long enough for at least one checkpoint (every 10 s) to run under load.
            deadline = time.time() + 12
            while time.time() < deadline:
                time.sleep(0.1)
            node.kill9()
            stop.set()
            for t in threads:
                t.join()

            node.start()
            cw = boto_client(node, "cloudwatch")
            im = boto_client(node, "ssm-incidents")
            total = 0
            for w in range(4):
                stats = cw.get_metric_statistics(
                    Namespace="Crash", MetricName="Count",
                    Dimensions=[{"Name": "W", "Value": str(w)}], StartTime=stamp,
                    EndTime=stamp + datetime.timedelta(minutes=1), Period=60,
                    Statistics=["SampleCount"])
                total += sum(d["SampleCount"] for d in stats["Datapoints"])
            # Acknowledged datapoints all survive; at most the in-flight requests (4 threads x 200)
            # were committed without their response arriving.
            self.assertGreaterEqual(total, acked[0])
            self.assertLessEqual(total, acked[0] + 4 * 200)
            self.assertGreater(acked[0], 0)

            alarm = cw.describe_alarms(AlarmNames=["crash-alarm"])["MetricAlarms"][0]
            self.assertEqual(alarm["StateValue"], "ALARM")
            wait_for(lambda: im.list_incident_records()["incidentRecordSummaries"], interval=0.1)
            time.sleep(1)  # any redelivery would have happened by now
            records = im.list_incident_records()["incidentRecordSummaries"]
            self.assertEqual(len(records), 1)


if __name__ == "__main__":
    unittest.main()
