"""kill -9 during a stream of StartIncident calls: every acknowledged incident survives, none is
duplicated, and retrying with the same clientToken returns the same ARN."""

import threading
import unittest
import uuid

from klaxon_harness import boto_client, plan_arn, running_node


class CrashTest(unittest.TestCase):

    def test_kill9_during_start_incident_stream(self):
        with running_node() as node:
            im = boto_client(node, "ssm-incidents")
            im.create_replication_set(regions={node.region: {}})
            im.create_response_plan(name="crash", incidentTemplate={"title": "t", "impact": 3})
            acked = {}  # clientToken -> arn
            lock = threading.Lock()
            stop = threading.Event()

            def worker():
                c = boto_client(node, "ssm-incidents")
                while not stop.is_set():
                    token = str(uuid.uuid4())
                    try:
                        arn = c.start_incident(responsePlanArn=plan_arn("crash"),
                                               clientToken=token)["incidentRecordArn"]
                    except Exception:  # the server went away mid-call: not acknowledged
                        return
                    with lock:
                        acked[token] = arn

            threads = [threading.Thread(target=worker) for _ in range(8)]
            for t in threads:
                t.start()
            while True:
                with lock:
                    if len(acked) >= 200:
                        break
                threading.Event().wait(0.01)
            node.kill9()
            stop.set()
            for t in threads:
                t.join()

            node.start()
            im = boto_client(node, "ssm-incidents")
            listed = set()
            for page in im.get_paginator("list_incident_records").paginate():
                for s in page["incidentRecordSummaries"]:
                    self.assertNotIn(s["arn"], listed)
                    listed.add(s["arn"])
            for token, arn in acked.items():
                self.assertIn(arn, listed)
            # Replays return the original result, not a new incident.
            for token, arn in list(acked.items())[:20]:
                again = im.start_incident(responsePlanArn=plan_arn("crash"),
                                          clientToken=token)["incidentRecordArn"]
                self.assertEqual(again, arn)
            total = sum(len(p["incidentRecordSummaries"]) for p in
                        im.get_paginator("list_incident_records").paginate())
            self.assertEqual(total, len(listed))


if __name__ == "__main__":
    unittest.main()
