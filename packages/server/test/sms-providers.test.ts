/**
 * Registration on a production node (--dev false) through each real SMS provider, against a
 * local server that checks the exact request the provider would get: Twilio's form body and
 * basic auth, the generic gateway's template, the webhook's signature. Also what a client sees
 * when the provider refuses, fails or hangs, what that costs its code budgets, and that
 * neither the code nor the number reaches the log.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { openNode, type ParleyNode } from '../src/node.js';
import { capturingLogger, FakeSmsProvider } from './fake-sms-provider.js';
import { http, nextPhone } from './harness.js';

const ACCOUNT = `AC${'3f'.repeat(16)}`;
const API_KEY = `SK${'7e'.repeat(16)}`;
const SERVICE = `MG${'5d'.repeat(16)}`;
const WEBHOOK_SECRET = 'b'.repeat(20) + 'webhook-secret-0123456789';

interface ProdNode {
  node: ParleyNode;
  url: string;
  logs: string[];
  stop(): Promise<void>;
}

/** A production node configured like an operator would: flags and PARLEY_* variables. */
async function startProdNode(argv: string[], env: NodeJS.ProcessEnv = {}): Promise<ProdNode> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-sms-'));
  const config = loadConfig({
    env,
    argv: ['--dev', 'false', ...argv],
    overrides: { port: 0, host: '127.0.0.1', dataDir, shutdownDrainMs: 0, codeRequestsPerHour: 100 },
  });
  const { log, lines } = capturingLogger();
  const node = await openNode(config, { log });
  const port = await node.start();
  return {
    node,
    url: `http://127.0.0.1:${port}`,
    logs: lines,
    async stop() {
      await node.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const requestCode = (t: ProdNode, phone: string) => http(`${t.url}/v1/auth/code`, 'POST', { phone });
const verify = (t: ProdNode, phone: string, code: string) =>
  http(`${t.url}/v1/auth/verify`, 'POST', { phone, code });

/** Asserts no log line holds the code or the whole number (a masked number is fine). */
function assertLogsClean(t: ProdNode, phone: string, code: string): void {
  for (const line of t.logs) {
    assert.ok(!line.includes(code), `the code is in the log: ${line}`);
    assert.ok(!line.includes(phone.slice(1)), `the number is in the log: ${line}`);
  }
}

async function metric(t: ProdNode, name: string, labels: string): Promise<number | undefined> {
  const text = await (await fetch(`${t.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

describe('a production node', () => {
  let fake: FakeSmsProvider;
  let secrets: string;
  before(async () => {
    fake = await FakeSmsProvider.start();
    secrets = mkdtempSync(join(tmpdir(), 'parley-sms-secrets-'));
  });
  after(async () => {
    await fake.close();
    rmSync(secrets, { recursive: true, force: true });
  });
  const reset = (...answers: FakeSmsProvider['answers']) => {
    fake.requests.length = 0;
    fake.answers = answers;
  };

  describe('with Twilio', () => {
    let t: ProdNode;
    before(async () => {
      const tokenFile = join(secrets, 'twilio-token');
      writeFileSync(tokenFile, 'twilio-auth-token-1\n', { mode: 0o600 });
      t = await startProdNode(
        [
          '--sms-provider',
          'twilio',
          '--sms-twilio-base-url',
          `${fake.url}/twilio`,
          '--sms-twilio-account-sid',
          ACCOUNT,
          '--sms-twilio-from',
          '+14155550100',
          '--sms-retry-backoff-ms',
          '1',
        ],
        { PARLEY_SMS_TWILIO_AUTH_TOKEN_FILE: tokenFile },
      );
    });
    after(() => t.stop());

    it('registers a user with the code Twilio was asked to send, in its form body with basic auth', async () => {
      reset({ status: 201, body: '{"sid":"SM0123","status":"queued"}' });
      const phone = nextPhone();
      const r1 = await requestCode(t, phone);
      assert.equal(r1.status, 200, JSON.stringify(r1.body));
      const req = fake.only();
      assert.equal(req.method, 'POST');
      assert.equal(req.path, `/twilio/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
      assert.equal(req.headers['content-type'], 'application/x-www-form-urlencoded');
      assert.equal(
        req.headers.authorization,
        `Basic ${Buffer.from(`${ACCOUNT}:twilio-auth-token-1`).toString('base64')}`,
      );
      const form = new URLSearchParams(req.body);
      assert.deepEqual([...form.keys()], ['To', 'From', 'Body']);
      assert.equal(form.get('To'), phone);
      assert.equal(form.get('From'), '+14155550100');
      const code = /^Your Parley code: (\d{6})$/.exec(form.get('Body') ?? '')?.[1];
      assert.ok(code, `body ${form.get('Body')}`);
      assert.equal(req.body, `To=%2B${phone.slice(1)}&From=%2B14155550100&Body=Your+Parley+code%3A+${code}`);

      const r2 = await verify(t, phone, code);
      assert.equal(r2.status, 200, JSON.stringify(r2.body));
      assert.equal(r2.body.primary, true);
      assertLogsClean(t, phone, code);
      assert.equal(await metric(t, 'parley_sms_sends_total', 'provider="twilio",outcome="sent"'), 1);
    });

    it('answers SMS_DELIVERY_FAILED when Twilio refuses the number, and lets the user ask again at once', async () => {
      reset(
        { status: 400, body: '{"code":21211,"message":"The \'To\' number is not valid.","status":400}' },
        { status: 201, body: '{}' },
      );
      const phone = nextPhone();
      const r = await requestCode(t, phone);
      assert.equal(r.status, 502);
      assert.equal(r.body.error.code, 'SMS_DELIVERY_FAILED');
      assert.match(r.body.error.message, /refused to send a code to this number/);
      assert.equal(fake.requests.length, 1, 'a refusal is not retried');
      assert.ok(
        t.logs.some((l) => l.includes('"twilioCode":21211')),
        "Twilio's error code is logged",
      );
      // The refused code was withdrawn: no resend wait, and the code Twilio refused never verifies.
      const refused = new URLSearchParams(fake.requests[0]!.body).get('Body')!.slice(-6);
      assert.equal((await verify(t, phone, refused)).body.error.code, 'CODE_INVALID');
      assert.equal((await requestCode(t, phone)).status, 200);
      assert.equal(await metric(t, 'parley_sms_sends_total', 'provider="twilio",outcome="refused"'), 1);
    });

    it('answers UNAVAILABLE when Twilio keeps failing, after retrying', async () => {
      reset({ status: 500, body: '{"code":20500}' });
      const r = await requestCode(t, nextPhone());
      assert.equal(r.status, 503);
      assert.equal(r.body.error.code, 'UNAVAILABLE');
      assert.equal(fake.requests.length, 3, 'the first try and smsRetries (2) retries');
      assert.equal(await metric(t, 'parley_sms_sends_total', 'provider="twilio",outcome="unavailable"'), 1);
    });
  });

  it('sends with a Twilio API key and messaging service: key SID and secret in basic auth, account SID in the path', async () => {
    const t = await startProdNode(
      [
        '--sms-provider',
        'twilio',
        '--sms-twilio-base-url',
        fake.url,
        '--sms-twilio-account-sid',
        ACCOUNT,
        '--sms-twilio-api-key-sid',
        API_KEY,
        '--sms-twilio-messaging-service-sid',
        SERVICE,
        '--sms-text',
        '{code} is your code & nobody else’s',
      ],
      { PARLEY_SMS_TWILIO_API_KEY_SECRET: 'api-key-secret-2' },
    );
    try {
      reset({ status: 201, body: '{}' });
      const phone = nextPhone();
      assert.equal((await requestCode(t, phone)).status, 200);
      const req = fake.only();
      assert.equal(req.path, `/2010-04-01/Accounts/${ACCOUNT}/Messages.json`);
      assert.equal(
        req.headers.authorization,
        `Basic ${Buffer.from(`${API_KEY}:api-key-secret-2`).toString('base64')}`,
      );
      const form = new URLSearchParams(req.body);
      assert.deepEqual([...form.keys()], ['To', 'MessagingServiceSid', 'Body']);
      assert.equal(form.get('MessagingServiceSid'), SERVICE);
      const code = form.get('Body')!.slice(0, 6);
      assert.equal(form.get('Body'), `${code} is your code & nobody else’s`);
      assert.equal((await verify(t, phone, code)).status, 200);
    } finally {
      await t.stop();
    }
  });

  describe('with a generic HTTP gateway', () => {
    it('fills the body template (escaped for JSON), sends the auth header and takes the configured status as success', async () => {
      const headerFile = join(secrets, 'gateway-header');
      writeFileSync(headerFile, 'X-Api-Key: gw-key-3\n', { mode: 0o600 });
      const t = await startProdNode(
        [
          '--sms-provider',
          'http',
          '--sms-http-url',
          `${fake.url}/v2/sms?sender=Parley`,
          '--sms-http-method',
          'PUT',
          '--sms-http-body',
          '{"recipient":"{phone}","message":"{text}","otp":"{code}"}',
          '--sms-http-success-status',
          '202',
          '--sms-text',
          'Code "{code}"',
        ],
        { PARLEY_SMS_HTTP_AUTH_HEADER_FILE: headerFile },
      );
      try {
        reset({ status: 202 });
        const phone = nextPhone();
        assert.equal((await requestCode(t, phone)).status, 200);
        const req = fake.only();
        assert.equal(req.method, 'PUT');
        assert.equal(req.path, '/v2/sms?sender=Parley');
        assert.equal(req.headers['x-api-key'], 'gw-key-3');
        assert.equal(req.headers['content-type'], 'application/json');
        const code = (JSON.parse(req.body) as { otp: string }).otp;
        assert.equal(req.body, `{"recipient":"${phone}","message":"Code \\"${code}\\"","otp":"${code}"}`);
        assert.equal((await verify(t, phone, code)).status, 200);
        assertLogsClean(t, phone, code);

        // 200 is a success status for most gateways, not for this one: the send was refused.
        reset({ status: 200 });
        const r = await requestCode(t, nextPhone());
        assert.equal(r.body.error.code, 'SMS_DELIVERY_FAILED');
      } finally {
        await t.stop();
      }
    });

    it('puts the number and code URL-encoded into a GET URL', async () => {
      const t = await startProdNode([
        '--sms-provider',
        'http',
        '--sms-http-method',
        'GET',
        '--sms-http-url',
        `${fake.url}/send?to={phone}&msg={text}`,
      ]);
      try {
        reset({ status: 200, body: 'OK' });
        const phone = nextPhone();
        assert.equal((await requestCode(t, phone)).status, 200);
        const req = fake.only();
        assert.equal(req.method, 'GET');
        assert.equal(req.body, '');
        const query = new URL(req.path, fake.url).searchParams;
        assert.equal(query.get('to'), phone);
        const code = /^Your Parley code: (\d{6})$/.exec(query.get('msg') ?? '')?.[1];
        assert.ok(code, req.path);
        assert.equal(req.path, `/send?to=%2B${phone.slice(1)}&msg=Your%20Parley%20code%3A%20${code}`);
        assert.equal((await verify(t, phone, code)).status, 200);
      } finally {
        await t.stop();
      }
    });

    it('retries a failing gateway and registers once it takes the code', async () => {
      const t = await startProdNode([
        '--sms-provider',
        'http',
        '--sms-http-url',
        `${fake.url}/sms`,
        '--sms-retry-backoff-ms',
        '20',
      ]);
      try {
        reset({ status: 503 }, 'drop', { status: 200 });
        const phone = nextPhone();
        assert.equal((await requestCode(t, phone)).status, 200);
        assert.equal(fake.requests.length, 3);
        const bodies = fake.requests.map((r) => r.body);
        assert.equal(new Set(bodies).size, 1, 'every try carries the same code');
        const code = /code: (\d{6})/.exec(bodies[0]!)![1]!;
        assert.equal((await verify(t, phone, code)).status, 200);
      } finally {
        await t.stop();
      }
    });

    it('answers a hanging gateway with UNAVAILABLE within the deadline, keeping the number’s budget spent', async () => {
      const t = await startProdNode([
        '--sms-provider',
        'http',
        '--sms-http-url',
        `${fake.url}/sms`,
        '--sms-timeout-ms',
        '200',
        '--sms-retries',
        '5',
        '--sms-retry-backoff-ms',
        '10',
        '--sms-deadline-ms',
        '700',
        '--code-requests-per-day',
        '1',
      ]);
      try {
        reset('hang');
        const phone = nextPhone();
        const t0 = performance.now();
        const r = await requestCode(t, phone);
        const took = performance.now() - t0;
        assert.equal(r.status, 503);
        assert.equal(r.body.error.code, 'UNAVAILABLE');
        assert.ok(took < 2000, `answered after ${took} ms`);
        assert.ok(fake.requests.length >= 2 && fake.requests.length <= 4, `${fake.requests.length} tries`);
        // The gateway may have sent that SMS: it counts against the number's budget.
        reset({ status: 200 });
        const again = await requestCode(t, phone);
        assert.equal(again.status, 429);
        assert.equal(again.body.error.code, 'RATE_LIMITED');
        assert.ok(again.body.error.retryAfterMs > 3_600_000, 'the daily budget, not the resend wait');
        assert.equal(fake.requests.length, 0);
      } finally {
        await t.stop();
      }
    });

    it('gives the number’s budget back when the gateway surely did not send the SMS', async () => {
      const t = await startProdNode([
        '--sms-provider',
        'http',
        '--sms-http-url',
        `${fake.url}/sms`,
        '--code-requests-per-day',
        '1',
        '--code-resend-ms',
        '0',
      ]);
      try {
        reset({ status: 422 }, { status: 200 });
        const phone = nextPhone();
        assert.equal((await requestCode(t, phone)).body.error.code, 'SMS_DELIVERY_FAILED');
        const again = await requestCode(t, phone);
        assert.equal(again.status, 200, JSON.stringify(again.body));
        assert.equal((await requestCode(t, nextPhone())).status, 200);
        const spent = await requestCode(t, phone);
        assert.equal(spent.status, 429, 'the budget holds for codes that were sent');
        assert.ok(spent.body.error.retryAfterMs > 3_600_000);
      } finally {
        await t.stop();
      }
    });
  });

  describe('with a signed webhook', () => {
    let t: ProdNode;
    before(async () => {
      t = await startProdNode(
        [
          '--sms-provider',
          'webhook',
          '--sms-webhook-url',
          `${fake.url}/relay`,
          '--sms-retry-backoff-ms',
          '1',
        ],
        { PARLEY_SMS_WEBHOOK_SECRET: WEBHOOK_SECRET },
      );
    });
    after(() => t.stop());

    /** What a relay does: recompute the signature over `timestamp.body` and compare. */
    function verifySignature(req: FakeSmsProvider['requests'][number]): void {
      const timestamp = String(req.headers['parley-timestamp']);
      assert.match(timestamp, /^\d{10}$/);
      assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60, 'the timestamp is now');
      const expected = createHmac('sha256', WEBHOOK_SECRET).update(`${timestamp}.${req.body}`).digest('hex');
      assert.equal(req.headers['parley-signature'], `v1=${expected}`);
    }

    it('registers a user with the code from a signed JSON POST', async () => {
      reset({ status: 204 });
      const phone = nextPhone();
      assert.equal((await requestCode(t, phone)).status, 200);
      const req = fake.only();
      assert.equal(req.method, 'POST');
      assert.equal(req.path, '/relay');
      assert.equal(req.headers['content-type'], 'application/json');
      verifySignature(req);
      const sent = JSON.parse(req.body) as { id: string; phone: string; code: string; text: string };
      assert.deepEqual(Object.keys(sent), ['id', 'phone', 'code', 'text']);
      assert.match(sent.id, /^[0-9a-f-]{36}$/);
      assert.equal(sent.phone, phone);
      assert.equal(sent.text, `Your Parley code: ${sent.code}`);
      assert.equal((await verify(t, phone, sent.code)).status, 200);
      assertLogsClean(t, phone, sent.code);
    });

    it('is accepted by the verification snippet in docs/operations.md, and a changed body is not', async () => {
      const ops = readFileSync(new URL('../../../../docs/operations.md', import.meta.url), 'utf8');
      const snippet = /```js\n([\s\S]*?verifyParleyWebhook[\s\S]*?)```/.exec(ops)?.[1];
      assert.ok(snippet, 'docs/operations.md has the snippet');
      const file = join(secrets, 'verify.mjs');
      writeFileSync(file, snippet);
      const { verifyParleyWebhook } = (await import(pathToFileURL(file).href)) as {
        verifyParleyWebhook: (
          secret: string,
          headers: object,
          body: string | Buffer,
          nowMs?: number,
        ) => boolean;
      };
      reset({ status: 200 });
      assert.equal((await requestCode(t, nextPhone())).status, 200);
      const req = fake.only();
      assert.equal(verifyParleyWebhook(WEBHOOK_SECRET, req.headers, Buffer.from(req.body)), true);
      const code = (JSON.parse(req.body) as { code: string }).code;
      const forged = req.body.replace(
        `"code":"${code}"`,
        `"code":"${code === '000000' ? '111111' : '000000'}"`,
      );
      assert.notEqual(forged, req.body);
      assert.equal(verifyParleyWebhook(WEBHOOK_SECRET, req.headers, forged), false);
      assert.equal(verifyParleyWebhook('another-secret-of-32-characters-', req.headers, req.body), false);
      const later = (Number(req.headers['parley-timestamp']) + 301) * 1000;
      assert.equal(
        verifyParleyWebhook(WEBHOOK_SECRET, req.headers, req.body, later),
        false,
        'a replay is stale',
      );
    });

    it('signs every retry afresh with the same delivery id, and refuses on a 4xx', async () => {
      reset({ status: 500 }, { status: 200 });
      assert.equal((await requestCode(t, nextPhone())).status, 200);
      assert.equal(fake.requests.length, 2);
      for (const req of fake.requests) verifySignature(req);
      assert.equal(fake.requests[0]!.body, fake.requests[1]!.body, 'one delivery id, one code');

      reset({ status: 403 });
      const r = await requestCode(t, nextPhone());
      assert.equal(r.status, 502);
      assert.equal(r.body.error.code, 'SMS_DELIVERY_FAILED');
      assert.ok(t.logs.some((l) => l.includes('refused the credentials')));
      assert.ok(!t.logs.some((l) => l.includes(WEBHOOK_SECRET)), 'the secret is never logged');
    });
  });
});

describe('a production node without an SMS provider', () => {
  it('refuses to start and names the settings to set', async () => {
    const config = loadConfig({ argv: ['--dev', 'false'], overrides: { port: 0, logLevel: 'silent' } });
    await assert.rejects(
      openNode(config),
      /needs an SMS provider: set smsProvider \(--sms-provider \/ PARLEY_SMS_PROVIDER\)/,
    );
  });

  it('`parley serve --dev false` exits with that message', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-sms-serve-'));
    try {
      const cli = fileURLToPath(new URL('../../../cli/dist/src/main.js', import.meta.url));
      const run = spawnSync(
        process.execPath,
        [cli, 'serve', '--dev', 'false', '--port', '0', '--data-dir', dataDir, '--sms-provider', 'twilio'],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' }, timeout: 30_000 },
      );
      assert.equal(run.status, 1, run.stderr);
      assert.match(
        run.stderr,
        /smsProvider=twilio needs smsTwilioAccountSid \(--sms-twilio-account-sid \/ PARLEY_SMS_TWILIO_ACCOUNT_SID\)/,
      );
      assert.match(run.stderr, /smsTwilioAuthToken/);
      assert.match(run.stderr, /smsTwilioFrom/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
