// Incident Manager and OpsCenter through the AWS SDK for JavaScript v3.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  SSMIncidentsClient, CreateReplicationSetCommand, GetReplicationSetCommand,
  CreateResponsePlanCommand, GetResponsePlanCommand, StartIncidentCommand, GetIncidentRecordCommand,
  ListIncidentRecordsCommand, UpdateIncidentRecordCommand, ListRelatedItemsCommand,
  ListTimelineEventsCommand, CreateTimelineEventCommand, TagResourceCommand,
  ListTagsForResourceCommand, UntagResourceCommand, ListResponsePlansCommand,
  ResourceNotFoundException, ValidationException, ConflictException,
} from '@aws-sdk/client-ssm-incidents';
import {
  SSMClient, GetOpsItemCommand, CreateOpsItemCommand, DescribeOpsItemsCommand,
  ListOpsItemRelatedItemsCommand, OpsItemNotFoundException,
} from '@aws-sdk/client-ssm';
import { startNode, ACCOUNT } from './harness.mjs';

let node;
let im;
let ssm;

before(async () => {
  node = await startNode();
  im = new SSMIncidentsClient(node.clientConfig);
  ssm = new SSMClient(node.clientConfig);
  const { arn } = await im.send(new CreateReplicationSetCommand({ regions: { 'us-east-1': {} } }));
  const rs = await im.send(new GetReplicationSetCommand({ arn }));
  assert.equal(rs.replicationSet.status, 'ACTIVE');
});

after(async () => node && node.stop());

const planArn = (name) => `arn:aws:ssm-incidents::${ACCOUNT}:response-plan/${name}`;

test('manual incident with parent OpsItem, dedup and resolve', async () => {
  await im.send(new CreateResponsePlanCommand({
    name: 'js-db-down', incidentTemplate: { title: 'DB down', impact: 2, dedupeString: 'js-db' },
    tags: { team: 'db' },
  }));
  const plan = await im.send(new GetResponsePlanCommand({ arn: planArn('js-db-down') }));
  assert.equal(plan.incidentTemplate.dedupeString, 'js-db');

  const { incidentRecordArn } = await im.send(new StartIncidentCommand({
    responsePlanArn: planArn('js-db-down'), title: 'Primary DB unreachable',
    triggerDetails: { source: 'com.example', timestamp: new Date('2024-01-01T00:00:00.123Z'), rawData: '{}' },
  }));
  const rec = (await im.send(new GetIncidentRecordCommand({ arn: incidentRecordArn }))).incidentRecord;
  assert.equal(rec.title, 'Primary DB unreachable');
  assert.equal(rec.status, 'OPEN');
  assert.ok(rec.creationTime instanceof Date);

  const again = await im.send(new StartIncidentCommand({ responsePlanArn: planArn('js-db-down') }));
  assert.equal(again.incidentRecordArn, incidentRecordArn);

  const items = (await im.send(new ListRelatedItemsCommand({ incidentRecordArn }))).relatedItems;
  const parent = items.find((i) => i.identifier.type === 'PARENT');
  assert.ok(parent, JSON.stringify(items));
  const opsItemId = parent.identifier.value.arn.split('/').pop();
  const ops = (await ssm.send(new GetOpsItemCommand({ OpsItemId: opsItemId }))).OpsItem;
  assert.equal(ops.OpsItemId, opsItemId);
  const related = await ssm.send(new ListOpsItemRelatedItemsCommand({ OpsItemId: opsItemId }));
  assert.ok(related.Summaries.some((s) => s.ResourceUri === incidentRecordArn));

  const events = (await im.send(new ListTimelineEventsCommand({ incidentRecordArn }))).eventSummaries;
  assert.ok(events.some((e) => e.eventType === 'SSM Incident Start'));
  await im.send(new CreateTimelineEventCommand({
    incidentRecordArn, eventTime: new Date(), eventType: 'Note', eventData: '"a note"',
  }));

  await im.send(new UpdateIncidentRecordCommand({ arn: incidentRecordArn, status: 'RESOLVED' }));
  const resolved = (await im.send(new GetIncidentRecordCommand({ arn: incidentRecordArn }))).incidentRecord;
  assert.equal(resolved.status, 'RESOLVED');
  assert.ok(resolved.resolvedTime instanceof Date);
  const fresh = await im.send(new StartIncidentCommand({ responsePlanArn: planArn('js-db-down') }));
  assert.notEqual(fresh.incidentRecordArn, incidentRecordArn);

  const listed = await im.send(new ListIncidentRecordsCommand({
    filters: [{ key: 'status', condition: { equals: { stringValues: ['RESOLVED'] } } }],
  }));
  assert.ok(listed.incidentRecordSummaries.some((s) => s.arn === incidentRecordArn));
});

// A storm into one open incident until its timeline is full (1,000 events), each call with the
// clientToken the SDK generates: every call gets that incident; the later ones are answered from
// memory and record only their token, which still replays after the incident is resolved.
test('a storm into a full timeline, with a clientToken per call', async () => {
  await im.send(new CreateResponsePlanCommand({
    name: 'js-storm', incidentTemplate: { title: 'Storm', impact: 3, dedupeString: 'js-storm' },
  }));
  const start = (extra = {}) =>
    im.send(new StartIncidentCommand({ responsePlanArn: planArn('js-storm'), ...extra }));
  const first = (await start()).incidentRecordArn;
  const arns = new Set();
  for (let round = 0; round < 64; round++) {
    const results = await Promise.all(Array.from({ length: 16 }, () => start()));
    for (const r of results) arns.add(r.incidentRecordArn);
  }
  assert.deepEqual([...arns], [first]);
  let events = 0;
  let nextToken;
  do {
    const page = await im.send(new ListTimelineEventsCommand({
      incidentRecordArn: first, maxResults: 100, nextToken,
    }));
    events += page.eventSummaries.length;
    nextToken = page.nextToken;
  } while (nextToken);
  assert.equal(events, 1000);

  assert.equal((await start({ clientToken: 'js-storm-1' })).incidentRecordArn, first);
  await im.send(new UpdateIncidentRecordCommand({ arn: first, status: 'RESOLVED' }));
  assert.equal((await start({ clientToken: 'js-storm-1' })).incidentRecordArn, first);
  await assert.rejects(start({ clientToken: 'js-storm-1', title: 'Other' }),
    (e) => e instanceof ConflictException);
  assert.notEqual((await start()).incidentRecordArn, first);
});

test('tags', async () => {
  await im.send(new TagResourceCommand({ resourceArn: planArn('js-db-down'), tags: { env: 'prod' } }));
  let tags = (await im.send(new ListTagsForResourceCommand({ resourceArn: planArn('js-db-down') }))).tags;
  assert.deepEqual(tags, { team: 'db', env: 'prod' });
  await im.send(new UntagResourceCommand({ resourceArn: planArn('js-db-down'), tagKeys: ['team'] }));
  tags = (await im.send(new ListTagsForResourceCommand({ resourceArn: planArn('js-db-down') }))).tags;
  assert.deepEqual(tags, { env: 'prod' });
});

test('errors are typed exceptions', async () => {
  await assert.rejects(im.send(new GetResponsePlanCommand({ arn: planArn('missing') })),
    (e) => e instanceof ResourceNotFoundException && e.$metadata.httpStatusCode === 404);
  await assert.rejects(im.send(new CreateResponsePlanCommand({
    name: 'bad name', incidentTemplate: { title: 't', impact: 1 },
  })), (e) => e instanceof ValidationException && /name/.test(e.message));
  await assert.rejects(im.send(new CreateResponsePlanCommand({
    name: 'js-db-down', incidentTemplate: { title: 't', impact: 1 },
  })), (e) => e instanceof ConflictException);
  await assert.rejects(ssm.send(new GetOpsItemCommand({ OpsItemId: 'oi-000000000000' })),
    (e) => e instanceof OpsItemNotFoundException);
});

test('a credential scoped to another Region is refused', async () => {
  // The node serves us-east-1: a request signed for eu-west-1 gets 403 InvalidSignatureException
  // at once (one attempt), through rest-json (ssm-incidents) and JSON 1.1 (ssm) alike.
  const config = { ...node.clientConfig, region: 'eu-west-1' };
  for (const [client, command] of [
    [new SSMIncidentsClient(config), new ListResponsePlansCommand({})],
    [new SSMClient(config), new DescribeOpsItemsCommand({})],
  ]) {
    await assert.rejects(client.send(command), (e) => {
      assert.equal(e.name, 'InvalidSignatureException');
      assert.match(e.message, /eu-west-1/);
      assert.equal(e.$fault, 'client');
      assert.equal(e.$metadata.httpStatusCode, 403);
      assert.equal(e.$metadata.attempts, 1);
      return true;
    });
  }
});

test('OpsCenter create and describe', async () => {
  const { OpsItemId } = await ssm.send(new CreateOpsItemCommand({
    Title: 'js item', Description: 'd', Source: 'jsapp', Priority: 3,
  }));
  const out = await ssm.send(new DescribeOpsItemsCommand({
    OpsItemFilters: [{ Key: 'Source', Values: ['jsapp'], Operator: 'Equal' }],
  }));
  assert.ok(out.OpsItemSummaries.some((s) => s.OpsItemId === OpsItemId));
});
