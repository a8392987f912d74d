/**
 * The push scenario's local APNs accepts a push only when it is what Apple would accept: the
 * right path, topic and headers, and a provider token signed with the configured key.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { connect } from 'node:http2';
import { after, before, it } from 'node:test';
import { type ApnsSink, startApnsSink } from './apns-sink.js';

const TOPIC = 'org.parley.bench';
const TOKEN = `${'0'.repeat(8)}${'be'.repeat(28)}`;
const key = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const other = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

function jwt(privateKey: KeyObject, kid = 'BENCHKEY01', iss = 'BENCHTEAM1'): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'ES256', kid })}.${part({ iss, iat: Math.floor(Date.now() / 1000) })}`;
  const sig = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

let sink: ApnsSink;
before(async () => {
  sink = await startApnsSink({
    keyId: 'BENCHKEY01',
    teamId: 'BENCHTEAM1',
    publicKey: key.publicKey,
    topic: TOPIC,
  });
});
after(() => sink.close());

function post(path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const session = connect(sink.url, { ca: sink.cert });
  return new Promise((resolve, reject) => {
    const req = session.request({ ':method': 'POST', ':path': path, ...headers });
    let status = 0;
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
    });
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    req.on('error', reject);
    req.end(JSON.stringify({ aps: { alert: { title: 'New message' } } }));
  });
}

const good = () => ({
  authorization: `bearer ${jwt(key.privateKey)}`,
  'apns-topic': TOPIC,
  'apns-push-type': 'alert',
  'apns-priority': '10',
  'apns-expiration': '0',
});

it('accepts a well-formed push and records its arrival, and refuses what APNs would refuse', async () => {
  assert.equal((await post(`/3/device/${TOKEN}`, good())).status, 200);
  const forged = await post(`/3/device/${TOKEN}`, {
    ...good(),
    authorization: `bearer ${jwt(other.privateKey)}`,
  });
  assert.deepEqual([forged.status, JSON.parse(forged.body).reason], [403, 'InvalidProviderToken']);
  const team = await post(`/3/device/${TOKEN}`, {
    ...good(),
    authorization: `bearer ${jwt(key.privateKey, 'BENCHKEY01', 'OTHERTEAM1')}`,
  });
  assert.equal(team.status, 403);
  assert.equal((await post(`/3/device/${TOKEN}`, { ...good(), 'apns-topic': 'org.other.app' })).status, 400);
  assert.equal((await post(`/3/device/${TOKEN}`, { ...good(), 'apns-priority': '5' })).status, 400);
  assert.equal((await post('/3/device/not-a-token', good())).status, 404);
  assert.equal(sink.accepted, 1);
  assert.equal(sink.refused, 5);
  assert.deepEqual([...sink.arrivals.keys()], [TOKEN]);
  assert.equal(sink.arrivals.get(TOKEN)!.length, 1);
});
