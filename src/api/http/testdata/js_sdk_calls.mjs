// Calls a few operations with the AWS SDK for JavaScript v3 against ENDPOINT and prints
// [[name, "ok" | "<ErrorName>:<status>"], ...] as JSON. Used by server_test.cc to check that the
// server's SigV4 verification accepts what the JS SDK signs (its canonical URI double-encodes
// rest-json ARN labels, like botocore).
//
// Usage: node js_sdk_calls.mjs NODE_MODULES_PARENT ENDPOINT ACCESS_KEY SECRET
import { createRequire } from 'node:module';

const [, , base, endpoint, accessKeyId, secretAccessKey] = process.argv;
const require = createRequire(base.endsWith('/') ? base : base + '/');
const incidents = require('@aws-sdk/client-ssm-incidents');
const ssm = require('@aws-sdk/client-ssm');

const config = {
  endpoint,
  region: 'us-west-2',
  credentials: { accessKeyId, secretAccessKey },
  maxAttempts: 1,
};
const im = new incidents.SSMIncidentsClient(config);
const opsCenter = new ssm.SSMClient(config);
const arn = 'arn:aws:ssm-incidents::000000000000:response-plan/my plan+1';

const results = [];
async function run(name, fn) {
  try {
    await fn();
    results.push([name, 'ok']);
  } catch (e) {
    results.push([name, `${e.name}:${e.$metadata?.httpStatusCode ?? ''}`]);
  }
}

await run('list-tags', () => im.send(new incidents.ListTagsForResourceCommand({ resourceArn: arn })));
await run('untag', () =>
  im.send(new incidents.UntagResourceCommand({ resourceArn: arn, tagKeys: ['b', 'a c', 'b'] })));
await run('tag', () =>
  im.send(new incidents.TagResourceCommand({ resourceArn: arn, tags: { 'ü': 'v w' } })));
await run('get-incident-record', () =>
  im.send(new incidents.GetIncidentRecordCommand({
    arn: 'arn:aws:ssm-incidents::000000000000:incident-record/p/abc',
  })));
await run('get-ops-item', () =>
  opsCenter.send(new ssm.GetOpsItemCommand({ OpsItemId: 'oi-123456789012' })));
console.log(JSON.stringify(results));
