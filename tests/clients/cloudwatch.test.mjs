// CloudWatch through the AWS SDK for JavaScript v3 (@aws-sdk/client-cloudwatch): every operation,
// errors as the SDK's modeled exceptions, and an alarm starting an incident. Runs once with the
// client's default protocol (AWS JSON 1.0 in 3.1164) and once forced to Smithy RPC v2 CBOR (what
// newer JS, Go and Ruby SDKs send); the CBOR run is skipped while the server does not speak CBOR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  CloudWatchClient, PutMetricDataCommand, GetMetricStatisticsCommand, GetMetricDataCommand,
  ListMetricsCommand, PutMetricAlarmCommand, PutCompositeAlarmCommand, DescribeAlarmsCommand,
  DescribeAlarmsForMetricCommand, DeleteAlarmsCommand, SetAlarmStateCommand,
  DescribeAlarmHistoryCommand, EnableAlarmActionsCommand, DisableAlarmActionsCommand,
  TagResourceCommand, UntagResourceCommand, ListTagsForResourceCommand, ResourceNotFound,
  ResourceNotFoundException, InvalidParameterValueException,
  InvalidParameterCombinationException, InvalidFormatFault, MissingRequiredParameterException,
} from '@aws-sdk/client-cloudwatch';
import { AwsSmithyRpcV2CborProtocol } from '@aws-sdk/core/protocols';
import {
  SSMIncidentsClient, CreateReplicationSetCommand, GetReplicationSetCommand,
  CreateResponsePlanCommand, ListIncidentRecordsCommand, GetIncidentRecordCommand,
  ListRelatedItemsCommand,
} from '@aws-sdk/client-ssm-incidents';
import { startNode, waitFor, ACCOUNT } from './harness.mjs';

process.env.KLAXON_CLOUDWATCH_EVALUATION_INTERVAL_MS = '200';

let node;
let im;
const clients = {};
let cborSupported = false;

before(async () => {
  node = await startNode();
  im = new SSMIncidentsClient(node.clientConfig);
  clients.json = new CloudWatchClient(node.clientConfig);
  clients.cbor = new CloudWatchClient({ ...node.clientConfig, protocol: AwsSmithyRpcV2CborProtocol });
  const { arn } = await im.send(new CreateReplicationSetCommand({ regions: { 'us-east-1': {} } }));
  const replicationSet = async () => (await im.send(new GetReplicationSetCommand({ arn }))).replicationSet;
  await waitFor(async () => (await replicationSet()).status === 'ACTIVE', 5000);
  try {
    await clients.cbor.send(new DescribeAlarmsCommand({ MaxRecords: 1 }));
    cborSupported = true;
  } catch (e) {
    cborSupported = false;
  }
});

after(async () => node && node.stop());

for (const protocol of ['json', 'cbor']) {
  const skip = () => (protocol === 'cbor' && !cborSupported ? 'server does not speak RPC v2 CBOR yet' : false);

  test(`${protocol}: metrics`, async (t) => {
    if (skip()) return t.skip(skip());
    const cw = clients[protocol];
    const ns = `Js${protocol}${Date.now()}`;
    const now = new Date(Math.floor(Date.now() / 60000) * 60000);
    const t0 = new Date(now.getTime() - 10 * 60000);
    const Dimensions = [{ Name: 'Svc', Value: 'api' }];
    await cw.send(new PutMetricDataCommand({
      Namespace: ns,
      MetricData: [
        { MetricName: 'Latency', Dimensions, Timestamp: t0, Value: 10.5, Unit: 'Milliseconds' },
        { MetricName: 'Latency', Dimensions, Timestamp: new Date(t0.getTime() + 1000), Values: [20, 30], Counts: [1, 2], Unit: 'Milliseconds' },
        { MetricName: 'Latency', Dimensions, Timestamp: new Date(t0.getTime() + 2000), StatisticValues: { SampleCount: 2, Sum: 100, Minimum: 50, Maximum: 50 }, Unit: 'Milliseconds' },
      ],
    }));
    const stats = await cw.send(new GetMetricStatisticsCommand({
      Namespace: ns, MetricName: 'Latency', Dimensions, StartTime: t0,
      EndTime: new Date(t0.getTime() + 300000), Period: 300,
      Statistics: ['SampleCount', 'Sum', 'Maximum'], ExtendedStatistics: ['p50'],
    }));
    assert.equal(stats.Label, 'Latency');
    assert.equal(stats.Datapoints.length, 1);
    assert.equal(stats.Datapoints[0].SampleCount, 6);
    assert.equal(stats.Datapoints[0].Sum, 190.5);
    assert.equal(stats.Datapoints[0].ExtendedStatistics.p50, 30);
    assert.ok(stats.Datapoints[0].Timestamp instanceof Date);
    assert.equal(stats.Datapoints[0].Timestamp.getTime(), t0.getTime());
    const data = await cw.send(new GetMetricDataCommand({
      StartTime: t0, EndTime: new Date(t0.getTime() + 120000),
      MetricDataQueries: [
        { Id: 'lat', MetricStat: { Metric: { Namespace: ns, MetricName: 'Latency', Dimensions }, Period: 60, Stat: 'Sum' }, ReturnData: false },
        { Id: 'half', Expression: 'lat / 2', Label: 'Half' },
      ],
    }));
    assert.equal(data.MetricDataResults.length, 1);
    assert.equal(data.MetricDataResults[0].Label, 'Half');
    assert.deepEqual(data.MetricDataResults[0].Values, [95.25]);
    const listed = await cw.send(new ListMetricsCommand({ Namespace: ns }));
    assert.deepEqual(listed.Metrics, [{ Namespace: ns, MetricName: 'Latency', Dimensions }]);

    await assert.rejects(cw.send(new PutMetricDataCommand({ Namespace: ns, MetricData: [{ MetricName: 'm', Value: 1, Values: [1] }] })),
      (e) => e instanceof InvalidParameterCombinationException && e.$metadata.httpStatusCode === 400);
    await assert.rejects(cw.send(new PutMetricDataCommand({ Namespace: ns, MetricData: [{ MetricName: 'm', Value: 1, StorageResolution: 2 }] })),
      (e) => e instanceof InvalidParameterValueException);
    await assert.rejects(cw.send(new PutMetricDataCommand({ Namespace: ns, MetricData: [{ MetricName: 'm' }] })),
      (e) => e instanceof MissingRequiredParameterException);
  });

  test(`${protocol}: alarms and the incident they start`, async (t) => {
    if (skip()) return t.skip(skip());
    const cw = clients[protocol];
    const suffix = `${protocol}-${Date.now()}`;
    const plan = `js-plan-${suffix}`;
    await im.send(new CreateResponsePlanCommand({ name: plan, incidentTemplate: { title: 'JS alarm', impact: 3 } }));
    const name = `js-alarm-${suffix}`;
    const arn = `arn:aws:cloudwatch:us-east-1:${ACCOUNT}:alarm:${name}`;
    await cw.send(new PutMetricAlarmCommand({
      AlarmName: name, MetricName: 'CPUUtilization', Namespace: 'AWS/EC2', Statistic: 'Average',
      Dimensions: [{ Name: 'InstanceId', Value: `i-${protocol}` }], Period: 60, EvaluationPeriods: 1,
      Threshold: 50.5, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'ignore',
      AlarmActions: [`arn:aws:ssm-incidents::${ACCOUNT}:responseplan/${plan}`],
      Tags: [{ Key: 'k', Value: 'v' }],
    }));
    const described = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    const alarm = described.MetricAlarms[0];
    assert.equal(alarm.AlarmArn, arn);
    assert.equal(alarm.Threshold, 50.5);
    assert.equal(alarm.StateValue, 'INSUFFICIENT_DATA');
    assert.ok(alarm.StateUpdatedTimestamp instanceof Date);
    assert.deepEqual(described.CompositeAlarms, []);

    await cw.send(new PutCompositeAlarmCommand({ AlarmName: `${name}-c`, AlarmRule: `ALARM("${name}")` }));
    await cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'ALARM', StateReason: 'js test' }));
    const composite = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [`${name}-c`], AlarmTypes: ['CompositeAlarm'] }));
    assert.equal(composite.CompositeAlarms[0].StateValue, 'ALARM');

    const incident = await waitFor(async () => {
      const list = await im.send(new ListIncidentRecordsCommand({}));
      for (const s of list.incidentRecordSummaries) {
        const rec = (await im.send(new GetIncidentRecordCommand({ arn: s.arn }))).incidentRecord;
        if (rec.incidentRecordSource.resourceArn === arn) return rec;
      }
      return null;
    });
    assert.equal(incident.incidentRecordSource.source, 'aws.cloudwatch');
    const items = (await im.send(new ListRelatedItemsCommand({ incidentRecordArn: incident.arn }))).relatedItems;
    assert.ok(items.some((i) => i.identifier.type === 'INVOLVED_RESOURCE' && i.identifier.value.arn === `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-${protocol}`));

    const forMetric = await cw.send(new DescribeAlarmsForMetricCommand({ MetricName: 'CPUUtilization', Namespace: 'AWS/EC2', Dimensions: [{ Name: 'InstanceId', Value: `i-${protocol}` }] }));
    assert.deepEqual(forMetric.MetricAlarms.map((a) => a.AlarmName), [name]);
    const history = await cw.send(new DescribeAlarmHistoryCommand({ AlarmName: name, HistoryItemType: 'StateUpdate' }));
    assert.equal(history.AlarmHistoryItems[0].HistorySummary, 'Alarm updated from INSUFFICIENT_DATA to ALARM');
    assert.ok(history.AlarmHistoryItems[0].Timestamp instanceof Date);
    await cw.send(new DisableAlarmActionsCommand({ AlarmNames: [name] }));
    await cw.send(new EnableAlarmActionsCommand({ AlarmNames: [name] }));
    await cw.send(new TagResourceCommand({ ResourceARN: arn, Tags: [{ Key: 'k2', Value: 'v2' }] }));
    await cw.send(new UntagResourceCommand({ ResourceARN: arn, TagKeys: ['k'] }));
    const tags = await cw.send(new ListTagsForResourceCommand({ ResourceARN: arn }));
    assert.deepEqual(tags.Tags, [{ Key: 'k2', Value: 'v2' }]);

    await assert.rejects(cw.send(new SetAlarmStateCommand({ AlarmName: `missing-${suffix}`, StateValue: 'OK', StateReason: 'x' })),
      (e) => e instanceof ResourceNotFound && e.$metadata.httpStatusCode === 404);
    await assert.rejects(cw.send(new SetAlarmStateCommand({ AlarmName: name, StateValue: 'OK', StateReason: 'x', StateReasonData: '{bad' })),
      (e) => e instanceof InvalidFormatFault);
    await assert.rejects(cw.send(new ListTagsForResourceCommand({ ResourceARN: `${arn}-nope` })),
      (e) => e instanceof ResourceNotFoundException);
    await assert.rejects(cw.send(new PutMetricAlarmCommand({
      AlarmName: name, MetricName: 'm', Namespace: 'n', Statistic: 'Sum', Period: 60, EvaluationPeriods: 1,
      Threshold: 1, ComparisonOperator: 'GreaterThanThreshold', AlarmActions: [`arn:aws:sns:us-east-1:${ACCOUNT}:t`],
        // The query code ValidationError is no modeled exception: the SDK's generic service error.
    })), (e) => /^Validation(Error|Exception)$/.test(e.name) && e.$metadata.httpStatusCode === 400 && /arn:aws:sns/.test(e.message));

    await cw.send(new DeleteAlarmsCommand({ AlarmNames: [`${name}-c`, name] }));
    const gone = await cw.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
    assert.deepEqual(gone.MetricAlarms, []);
  });
}
