// EventBridge through the AWS SDK for JavaScript v3 (@aws-sdk/client-eventbridge): every
// operation klaxon serves, errors included, and events turned into incidents.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import {
  EventBridgeClient, CreateEventBusCommand, DescribeEventBusCommand, ListEventBusesCommand,
  DeleteEventBusCommand, PutRuleCommand, DescribeRuleCommand, ListRulesCommand, DeleteRuleCommand,
  EnableRuleCommand, DisableRuleCommand, ListRuleNamesByTargetCommand, PutTargetsCommand,
  RemoveTargetsCommand, ListTargetsByRuleCommand, TagResourceCommand, UntagResourceCommand,
  ListTagsForResourceCommand, PutEventsCommand, TestEventPatternCommand,
  CreatePartnerEventSourceCommand, DescribePartnerEventSourceCommand,
  ListPartnerEventSourcesCommand, ListPartnerEventSourceAccountsCommand,
  DeletePartnerEventSourceCommand, PutPartnerEventsCommand, ListEventSourcesCommand,
  DescribeEventSourceCommand, ActivateEventSourceCommand, DeactivateEventSourceCommand,
  ResourceNotFoundException, ResourceAlreadyExistsException, InvalidEventPatternException,
  LimitExceededException, InvalidStateException,
} from '@aws-sdk/client-eventbridge';
import {
  SSMIncidentsClient, CreateReplicationSetCommand, CreateResponsePlanCommand,
  ListIncidentRecordsCommand, GetIncidentRecordCommand, ListRelatedItemsCommand,
} from '@aws-sdk/client-ssm-incidents';
import { startNode, waitFor, ACCOUNT } from './harness.mjs';

let node;
let eb;
let im;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/EventBridgeStartIncident`;
const INSTANCE = `arn:aws:ec2:us-east-1:${ACCOUNT}:instance/i-0js00000000000001`;

before(async () => {
  node = await startNode();
  eb = new EventBridgeClient(node.clientConfig);
  im = new SSMIncidentsClient(node.clientConfig);
  await im.send(new CreateReplicationSetCommand({ regions: { 'us-east-1': {} } }));
});

after(async () => node && node.stop());

const isError = (type, re) => (e) => {
  assert.equal(e.name, type, e.message);
  if (re) assert.match(e.message, re);
  return true;
};

async function incidentsOf(plan) {
  const name = plan.split('/').pop();
  const out = (await im.send(new ListIncidentRecordsCommand({}))).incidentRecordSummaries;
  return out.filter((s) => s.arn.split('/').slice(-2)[0] === name);
}

test('event buses', async () => {
  const def = await eb.send(new DescribeEventBusCommand({}));
  assert.equal(def.Name, 'default');
  const { EventBusArn } = await eb.send(new CreateEventBusCommand({
    Name: 'js-bus', Tags: [{ Key: 'team', Value: 'sre' }],
  }));
  assert.equal(EventBusArn, `arn:aws:events:us-east-1:${ACCOUNT}:event-bus/js-bus`);
  await assert.rejects(eb.send(new CreateEventBusCommand({ Name: 'js-bus' })),
    (e) => e instanceof ResourceAlreadyExistsException);
  assert.equal((await eb.send(new DescribeEventBusCommand({ Name: 'js-bus' }))).Arn, EventBusArn);
  const names = (await eb.send(new ListEventBusesCommand({}))).EventBuses.map((b) => b.Name);
  assert.ok(names.includes('default') && names.includes('js-bus'), names.join());
  await eb.send(new DeleteEventBusCommand({ Name: 'js-bus' }));
  await assert.rejects(eb.send(new DescribeEventBusCommand({ Name: 'js-bus' })),
    (e) => e instanceof ResourceNotFoundException);
  await assert.rejects(eb.send(new DeleteEventBusCommand({ Name: 'default' })),
    isError('ValidationException'));
});

test('rules, targets and tags', async () => {
  const pattern = JSON.stringify({ source: ['com.example.js'] });
  const { RuleArn } = await eb.send(new PutRuleCommand({
    Name: 'js-rule', EventPattern: pattern, Tags: [{ Key: 'env', Value: 'test' }],
  }));
  assert.equal(RuleArn, `arn:aws:events:us-east-1:${ACCOUNT}:rule/js-rule`);
  const rule = await eb.send(new DescribeRuleCommand({ Name: 'js-rule' }));
  assert.equal(rule.EventPattern, pattern);
  assert.equal(rule.State, 'ENABLED');
  await eb.send(new DisableRuleCommand({ Name: 'js-rule' }));
  assert.equal((await eb.send(new DescribeRuleCommand({ Name: 'js-rule' }))).State, 'DISABLED');
  await eb.send(new EnableRuleCommand({ Name: 'js-rule' }));
  await eb.send(new PutRuleCommand({ Name: 'js-rule2', EventPattern: pattern }));
  const listed = [];
  let NextToken;
  do {
    const page = await eb.send(new ListRulesCommand({ NamePrefix: 'js-', Limit: 1, NextToken }));
    listed.push(...page.Rules.map((r) => r.Name));
    NextToken = page.NextToken;
  } while (NextToken);
  assert.deepEqual(listed, ['js-rule', 'js-rule2']);
  await eb.send(new DeleteRuleCommand({ Name: 'js-rule2' }));

  const plan = `arn:aws:ssm-incidents::${ACCOUNT}:response-plan/js-plan`;
  const put = await eb.send(new PutTargetsCommand({
    Rule: 'js-rule',
    Targets: [
      { Id: 'im', Arn: plan, RoleArn: ROLE },
      { Id: 'sqs', Arn: `arn:aws:sqs:us-east-1:${ACCOUNT}:q` },
    ],
  }));
  assert.equal(put.FailedEntryCount, 1);
  assert.equal(put.FailedEntries[0].TargetId, 'sqs');
  assert.equal(put.FailedEntries[0].ErrorCode, 'ValidationException');
  const targets = (await eb.send(new ListTargetsByRuleCommand({ Rule: 'js-rule' }))).Targets;
  assert.deepEqual(targets.map((t) => t.Id), ['im']);
  assert.deepEqual((await eb.send(new ListRuleNamesByTargetCommand({ TargetArn: plan }))).RuleNames,
    ['js-rule']);
  await assert.rejects(eb.send(new PutTargetsCommand({
    Rule: 'js-rule',
    Targets: [1, 2, 3, 4, 5].map((i) => ({ Id: `h${i}`, Arn: `http://127.0.0.1:9/${i}` })),
  })), (e) => e instanceof LimitExceededException);
  await assert.rejects(eb.send(new DeleteRuleCommand({ Name: 'js-rule' })),
    isError('ValidationException', /has targets/));

  await eb.send(new TagResourceCommand({ ResourceARN: RuleArn, Tags: [{ Key: 'team', Value: 'a' }] }));
  const tags = (await eb.send(new ListTagsForResourceCommand({ ResourceARN: RuleArn }))).Tags;
  assert.deepEqual(tags.map((t) => t.Key).sort(), ['env', 'team']);
  await eb.send(new UntagResourceCommand({ ResourceARN: RuleArn, TagKeys: ['env'] }));
  assert.deepEqual((await eb.send(new ListTagsForResourceCommand({ ResourceARN: RuleArn }))).Tags,
    [{ Key: 'team', Value: 'a' }]);

  await eb.send(new RemoveTargetsCommand({ Rule: 'js-rule', Ids: ['im'] }));
  await eb.send(new DeleteRuleCommand({ Name: 'js-rule' }));
  await assert.rejects(eb.send(new DescribeRuleCommand({ Name: 'js-rule' })),
    (e) => e instanceof ResourceNotFoundException && /does not exist on EventBus default/.test(e.message));
  await assert.rejects(eb.send(new PutRuleCommand({ Name: 'bad', EventPattern: '{"source":[]}' })),
    (e) => e instanceof InvalidEventPatternException && /Empty arrays/.test(e.message));
  await assert.rejects(eb.send(new PutRuleCommand({ Name: 'bad name', EventPattern: pattern })),
    isError('ValidationException'));
});

test('PutEvents entries and TestEventPattern', async () => {
  const out = await eb.send(new PutEventsCommand({
    Entries: [
      { Source: 'com.example', DetailType: 't', Detail: '{"a":1}', Time: new Date() },
      { Source: 'com.example', DetailType: 't' },
      { Source: 'com.example', DetailType: 't', Detail: '{}', EventBusName: 'missing' },
    ],
  }));
  assert.equal(out.FailedEntryCount, 2);
  assert.equal(out.Entries[0].EventId.length, 36);
  assert.equal(out.Entries[1].ErrorCode, 'InvalidArgument');
  assert.equal(out.Entries[2].ErrorCode, 'ResourceNotFoundException');
  const event = JSON.stringify({
    id: '1', account: ACCOUNT, source: 'aws.ec2', time: '2024-01-01T00:00:00Z', region: 'us-east-1',
    resources: [], 'detail-type': 'x', detail: { state: 'stopped' },
  });
  const pattern = '{"detail":{"state":[{"anything-but":"running"}]}}';
  assert.equal((await eb.send(new TestEventPatternCommand({ EventPattern: pattern, Event: event }))).Result, true);
  await assert.rejects(eb.send(new TestEventPatternCommand({ EventPattern: '{"a":1}', Event: event })),
    (e) => e instanceof InvalidEventPatternException);
});

test('EC2 state change becomes one incident, then dedups', async () => {
  const { arn: plan } = await im.send(new CreateResponsePlanCommand({
    name: 'js-ec2', incidentTemplate: { title: 'EC2 not running', impact: 2 },
  }));
  const { RuleArn } = await eb.send(new PutRuleCommand({
    Name: 'js-ec2',
    EventPattern: JSON.stringify({ source: ['aws.ec2'], detail: { state: [{ 'anything-but': 'running' }] } }),
  }));
  await eb.send(new PutTargetsCommand({ Rule: 'js-ec2', Targets: [{ Id: 'im', Arn: plan, RoleArn: ROLE }] }));
  const ec2 = (state) => ({
    Source: 'aws.ec2', DetailType: 'EC2 Instance State-change Notification',
    Detail: JSON.stringify({ state }), Resources: [INSTANCE],
  });
  await eb.send(new PutEventsCommand({ Entries: [ec2('running')] }));
  await eb.send(new PutEventsCommand({ Entries: [ec2('stopped')] }));
  const found = await waitFor(async () => (await incidentsOf(plan)).length === 1 && incidentsOf(plan));
  assert.ok(found);
  const rec = (await im.send(new GetIncidentRecordCommand({ arn: found[0].arn }))).incidentRecord;
  assert.equal(rec.dedupeString, RuleArn);
  assert.equal(rec.incidentRecordSource.source, 'aws.events');
  const items = (await im.send(new ListRelatedItemsCommand({ incidentRecordArn: rec.arn }))).relatedItems;
  assert.ok(items.some((i) => i.identifier.type === 'INVOLVED_RESOURCE' && i.identifier.value.arn === INSTANCE));
  await eb.send(new PutEventsCommand({ Entries: [ec2('stopping')] }));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await incidentsOf(plan)).length, 1);
});

test('partner source to partner bus to incident, and a webhook', async () => {
  const name = `aws.partner/js.example.com/${ACCOUNT}/alerts`;
  const { EventSourceArn } = await eb.send(new CreatePartnerEventSourceCommand({ Name: name, Account: ACCOUNT }));
  assert.equal(EventSourceArn, `arn:aws:events:us-east-1::event-source/${name}`);
  await assert.rejects(eb.send(new CreatePartnerEventSourceCommand({ Name: name, Account: ACCOUNT })),
    (e) => e instanceof ResourceAlreadyExistsException);
  assert.equal((await eb.send(new DescribePartnerEventSourceCommand({ Name: name }))).Name, name);
  assert.deepEqual((await eb.send(new ListPartnerEventSourcesCommand({ NamePrefix: 'aws.partner/js.example.com/' })))
    .PartnerEventSources.map((s) => s.Name), [name]);
  const accounts = (await eb.send(new ListPartnerEventSourceAccountsCommand({ EventSourceName: name })))
    .PartnerEventSourceAccounts;
  assert.equal(accounts[0].State, 'PENDING');
  assert.ok(accounts[0].CreationTime instanceof Date);
  assert.ok((await eb.send(new ListEventSourcesCommand({}))).EventSources.some((s) => s.Name === name));
  await eb.send(new CreateEventBusCommand({ Name: name, EventSourceName: name }));
  assert.equal((await eb.send(new DescribeEventSourceCommand({ Name: name }))).State, 'ACTIVE');
  await eb.send(new DeactivateEventSourceCommand({ Name: name }));
  await eb.send(new ActivateEventSourceCommand({ Name: name }));

  const received = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => { received.push({ url: req.url, body }); res.end('ok'); });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { arn: plan } = await im.send(new CreateResponsePlanCommand({
      name: 'js-saas', incidentTemplate: { title: 'SaaS alert', impact: 3 },
    }));
    await eb.send(new PutRuleCommand({ Name: 'p1', EventBusName: name, EventPattern: '{"detail":{"priority":["P1"]}}' }));
    await eb.send(new PutTargetsCommand({
      Rule: 'p1', EventBusName: name,
      Targets: [
        { Id: 'im', Arn: plan, RoleArn: ROLE },
        {
          Id: 'hook', Arn: `http://127.0.0.1:${server.address().port}/hook`,
          InputTransformer: { InputPathsMap: { svc: '$.detail.service' }, InputTemplate: '"<svc> is down"' },
        },
      ],
    }));
    const out = await eb.send(new PutPartnerEventsCommand({
      Entries: [
        { Source: name, DetailType: 'Alert', Detail: '{"priority":"P1","service":"checkout"}' },
        { Source: 'aws.partner/other.example/1/x', DetailType: 'Alert', Detail: '{}' },
      ],
    }));
    assert.equal(out.FailedEntryCount, 1);
    assert.equal(out.Entries[1].ErrorCode, 'NotAuthorizedForSourceException');
    assert.ok(await waitFor(async () => (await incidentsOf(plan)).length === 1));
    assert.ok(await waitFor(() => received.length === 1));
    assert.equal(received[0].url, '/hook');
    assert.equal(received[0].body, '"checkout is down"');
    await eb.send(new RemoveTargetsCommand({ Rule: 'p1', EventBusName: name, Ids: ['im', 'hook'] }));
    await eb.send(new DeleteRuleCommand({ Name: 'p1', EventBusName: name }));
  } finally {
    server.close();
  }
  await eb.send(new DeleteEventBusCommand({ Name: name }));
  await eb.send(new DeletePartnerEventSourceCommand({ Name: name, Account: ACCOUNT }));
  assert.equal((await eb.send(new DescribeEventSourceCommand({ Name: name }))).State, 'DELETED');
  await assert.rejects(eb.send(new ActivateEventSourceCommand({ Name: name })),
    (e) => e instanceof InvalidStateException);
});
