#!/usr/bin/python3
"""Prints requests signed by the real botocore (Debian python3-botocore) as JSON, for
sigv4_test.cc: the server-side verifier must accept every one of them.

Requests come from real botocore clients (their serializers build the paths, query strings and
bodies; a before-send hook captures the signed request and answers it locally, so nothing is sent
anywhere), plus a few hand-built AWSRequests signed with SigV4Auth / SigV4QueryAuth for edge
cases the clients do not produce (dot segments, odd spacing in header values, presigned URLs).

Usage: botocore_sign.py ACCESS_KEY_ID SECRET ENDPOINT_URL
Output: a JSON list of {"name", "method", "target", "headers": [[k, v], ...], "body"}.
"""
import json
import sys
from urllib.parse import urlsplit

import botocore.session
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

ACCESS_KEY, SECRET, ENDPOINT = sys.argv[1], sys.argv[2], sys.argv[3]
REGION = "us-east-1"
ARN = "arn:aws:ssm-incidents::111122223333:response-plan/my plan+1"
INCIDENT = "arn:aws:ssm-incidents::111122223333:incident-record/myplan/abcd1234"

out = []


def host_of(url):
    parts = urlsplit(url)
    host = parts.hostname
    if parts.port and not (
        (parts.scheme == "http" and parts.port == 80)
        or (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    return host


def record(name, method, url, headers, body):
    parts = urlsplit(url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    hdrs = [[k, v if isinstance(v, str) else v.decode()] for k, v in headers.items()]
    if not any(k.lower() == "host" for k, _ in hdrs):
        hdrs.append(["Host", host_of(url)])
    if body is None:
        body = b""
    if isinstance(body, str):
        body = body.encode()
    out.append({"name": name, "method": method, "target": target, "headers": hdrs,
                "body": body.decode("utf-8")})


class _Raw:
    def __init__(self, data):
        self._data = data

    def stream(self, **kwargs):
        yield self._data


current = {"name": ""}


def before_send(request, **kwargs):
    record(current["name"], request.method, request.url, request.headers, request.body)
    return AWSResponse(request.url, 200, {}, _Raw(b"{}"))


session = botocore.session.get_session()


def client(service):
    c = session.create_client(service, region_name=REGION, endpoint_url=ENDPOINT,
                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET)
    c.meta.events.register("before-send", before_send)
    return c


def call(name, fn, **kwargs):
    current["name"] = name
    try:
        fn(**kwargs)
    except Exception:  # the stub response may not parse for every operation; the capture is done
        pass


incidents = client("ssm-incidents")
call("rest-json list-tags (ARN label)", incidents.list_tags_for_resource, resourceArn=ARN)
call("rest-json untag (ARN label, repeated query keys)", incidents.untag_resource,
     resourceArn=ARN, tagKeys=["k2", "k 1", "k2"])
call("rest-json tag (ARN label, body)", incidents.tag_resource, resourceArn=ARN,
     tags={"team": "db ops", "ünï": "cödé"})
call("rest-json get-incident-record (ARN in query)", incidents.get_incident_record, arn=INCIDENT)
call("rest-json start-incident", incidents.start_incident, clientToken="tok-1",
     responsePlanArn=ARN, title="Disk full ✓", impact=2)
ssm = client("ssm")
call("json1.1 get-ops-item", ssm.get_ops_item, OpsItemId="oi-123456789012")
cw = client("cloudwatch")
call("query put-metric-alarm", cw.put_metric_alarm, AlarmName="cpu high", MetricName="CPU",
     Namespace="AWS/EC2", Statistic="Average", Period=60, EvaluationPeriods=1, Threshold=80.0,
     ComparisonOperator="GreaterThanThreshold",
     AlarmActions=["arn:aws:ssm-incidents::111122223333:responseplan/myplan"])

creds = Credentials(ACCESS_KEY, SECRET)
base = ENDPOINT.rstrip("/")

req = AWSRequest(method="GET",
                 url=base + "/a%20b/./c/../%7Ed//e%2Fx/?b=2&a=1&a=0&c=a%20b&d=%2F&e&%C3%BC=%E2%9C%93",
                 headers={"X-Custom": "  lots   of \t spaces  ", "X-Amz-Target": "x.Y"})
SigV4Auth(creds, "ssm-incidents", REGION).add_auth(req)
record("raw SigV4Auth: dot segments, encoded slash, repeated and empty query keys", req.method,
       req.url, req.headers, req.body)

req = AWSRequest(method="POST", url=base + "/", data=b'{"a": 1}',
                 headers={"Content-Type": "application/x-amz-json-1.1"})
SigV4Auth(creds, "events", "eu-west-3").add_auth(req)
record("raw SigV4Auth: other region and service", req.method, req.url, req.headers, req.body)

req = AWSRequest(method="GET", url=base + "/getIncidentRecord?arn=" +
                 "arn%3Aaws%3Assm-incidents%3A%3A111122223333%3Aincident-record%2Fmyplan%2Fabcd")
SigV4QueryAuth(creds, "ssm-incidents", REGION, expires=300).add_auth(req)
record("presigned SigV4QueryAuth", req.method, req.url, req.headers, req.body)

json.dump(out, sys.stdout, ensure_ascii=False)
