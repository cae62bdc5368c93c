"""kill -9 while PutEvents calls are being accepted and their incidents created: after a restart,
every acknowledged matching event has become its incident, and no incident was created or
triggered twice (the outbox redelivers; StartIncident's clientToken replays)."""

import json
import os
import queue
import threading
import time
import unittest

from klaxon_harness import ACCOUNT, boto_client, running_node

RULES = 200
ROLE = "arn:aws:iam::%s:role/EventBridgeStartIncident" % ACCOUNT


def rule_arn(n):
    return "arn:aws:events:us-east-1:%s:rule/crash-%03d" % (ACCOUNT, n)


class EventsCrashTest(unittest.TestCase):

    def test_kill9_while_accepting_events(self):
        with running_node() as node:
            im = boto_client(node, "ssm-incidents")
            events = boto_client(node, "events")
            im.create_replication_set(regions={node.region: {}})
            plan = im.create_response_plan(name="crash",
                                           incidentTemplate={"title": "t", "impact": 3})["arn"]
            # One rule per event: each acknowledged event must give its own incident.
            for n in range(RULES):
                events.put_rule(Name="crash-%03d" % n,
                                EventPattern=json.dumps({"source": ["crash"], "detail": {"n": [n]}}))
                events.put_targets(Rule="crash-%03d" % n,
                                   Targets=[{"Id": "im", "Arn": plan, "RoleArn": ROLE}])

            work = queue.Queue()
            for start in range(0, RULES, 10):
                work.put(list(range(start, min(start + 10, RULES))))
            acked = {}  # n -> event id
            lock = threading.Lock()

            def worker():
                c = boto_client(node, "events")
                while True:
                    try:
                        batch = work.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        result = c.put_events(Entries=[
                            {"Source": "crash", "DetailType": "crash", "Detail": json.dumps({"n": n})}
                            for n in batch])
                    except Exception:  # the server went away mid-call: not acknowledged
                        return
                    with lock:
                        for n, entry in zip(batch, result["Entries"]):
                            if "EventId" in entry:
                                acked[n] = entry["EventId"]

            threads = [threading.Thread(target=worker) for _ in range(6)]
            for t in threads:
                t.start()
            while True:
                with lock:
                    if len(acked) >= RULES // 2 or work.empty():
                        break
                time.sleep(0.005)
            node.kill9()
            for t in threads:
                t.join()
            self.assertGreater(len(acked), 0)

            node.start()
            im = boto_client(node, "ssm-incidents")
            if os.environ.get("KLAXON_TEST_VERBOSE"):
                print("acknowledged %d events before kill -9" % len(acked))

            def incidents():
                out = {}
                for page in im.get_paginator("list_incident_records").paginate():
                    for s in page["incidentRecordSummaries"]:
                        out[s["arn"]] = s
                return out

            # Every acknowledged event becomes its incident (delivery resumes after the restart).
            by_rule = {}
            deadline = time.time() + 90
            while time.time() < deadline:
                records = incidents()
                by_rule = {}
                for arn in records:
                    dedupe = im.get_incident_record(arn=arn)["incidentRecord"]["dedupeString"]
                    by_rule.setdefault(dedupe, []).append(arn)
                if all(rule_arn(n) in by_rule for n in acked):
                    break
                time.sleep(0.5)
            if os.environ.get("KLAXON_TEST_VERBOSE"):
                print("incidents after restart: %d" % len(by_rule))
            missing = [n for n in acked if rule_arn(n) not in by_rule]
            self.assertEqual(missing, [], "acknowledged events without an incident")

            # Nothing created twice: one incident per rule, one trigger per incident.
            for dedupe, arns in by_rule.items():
                self.assertEqual(len(arns), 1, dedupe)
                timeline = im.list_timeline_events(incidentRecordArn=arns[0])["eventSummaries"]
                triggers = [e for e in timeline if e["eventType"] == "SSM Incident Trigger"]
                self.assertEqual(len(triggers), 1, arns[0])
            # Incidents exist only for events that were sent (acknowledged or in flight).
            self.assertLessEqual(len(by_rule), RULES)


if __name__ == "__main__":
    unittest.main()
