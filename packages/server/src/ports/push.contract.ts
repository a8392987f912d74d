/**
 * The conformance suite every PushProvider passes against a local server that speaks its
 * protocol: success, a dead token, 429 with Retry-After, 500/503, another 4xx, a server that never
 * answers, an unreachable host, the preview kept or dropped at the cap, and logs free of tokens
 * and previews. Each provider's test calls `pushProviderContract` with a harness.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PushTestAnswer } from '../../test/support/push-servers/index.js';
import type { Logger } from '../log.js';
import type { PushOutcome, PushPayload, PushProvider, PushTarget } from './push.js';

export interface PushHarness {
  provider: PushProvider;
  /** The provider's request time limit, as configured. */
  timeoutMs: number;
  /** A target the server knows, under a fresh token. */
  target(): { target: PushTarget; token: string };
  server: {
    received: { token: string }[];
    problems: string[];
    setAnswer(token: string, a: PushTestAnswer): void;
  };
  /** The preview as the server got it from its `received` entry (undefined if absent). */
  previewOf(received: { token: string }): string | undefined;
  /** A preview length (base64 characters) that travels, and one over the provider's cap. */
  previewFits: number;
  previewTooBig: number;
  /** A provider and target whose host does not listen. */
  unreachable(): Promise<{ provider: PushProvider; target: PushTarget }>;
  close(): Promise<void>;
}

export function testPayload(over: Partial<PushPayload> = {}): PushPayload {
  return {
    kind: 'message',
    deviceId: 'dev-1',
    userId: 'user-1',
    chatId: 'chat-1',
    messageCount: 2,
    badge: 5,
    alert: true,
    collapseId: 'chat-1',
    ...over,
  };
}

export function pushProviderContract(
  name: string,
  make: (log: Logger, lines: string[]) => Promise<PushHarness>,
): void {
  describe(`${name}: the push provider contract`, () => {
    let h: PushHarness;
    const lines: string[] = [];
    const secrets: string[] = [];
    before(async () => {
      const { pino } = await import('pino');
      const log = pino({ level: 'trace', base: undefined }, { write: (l: string) => void lines.push(l) });
      h = await make(log, lines);
    });
    after(async () => {
      await h.close();
    });

    const sendTo = async (answer: PushTestAnswer | undefined, payload = testPayload()) => {
      const { target, token } = h.target();
      secrets.push(token);
      if (answer) h.server.setAnswer(token, answer);
      const outcome = await h.provider.send(target, payload);
      return { outcome, token, got: h.server.received.filter((r) => r.token === token) };
    };
    const expectKind = (o: PushOutcome, kind: PushOutcome['kind'], status?: number) => {
      assert.equal(o.kind, kind, JSON.stringify(o));
      if (status !== undefined) assert.equal(o.status, status, JSON.stringify(o));
    };

    it('reports a push the service accepted as sent', async () => {
      const { outcome, got } = await sendTo(undefined);
      expectKind(outcome, 'sent');
      assert.equal(got.length, 1);
      assert.deepEqual(h.server.problems, []);
    });

    it('reports a token the service no longer knows as invalid-token, so the registration goes', async () => {
      const { outcome } = await sendTo({ kind: 'invalid-token' });
      expectKind(outcome, 'invalid-token');
      assert.ok(outcome.status === 404 || outcome.status === 410, String(outcome.status));
    });

    it('asks for a retry after the Retry-After of a 429', async () => {
      const { outcome } = await sendTo({ kind: 'rate-limited', retryAfterSeconds: 7 });
      expectKind(outcome, 'retry', 429);
      assert.equal(outcome.kind === 'retry' && outcome.retryAfterMs, 7000);
    });

    it('asks for a retry on 500 and on 503', async () => {
      expectKind((await sendTo({ kind: 'server-error', status: 500 })).outcome, 'retry', 500);
      const o = (await sendTo({ kind: 'server-error', status: 503, retryAfterSeconds: 2 })).outcome;
      expectKind(o, 'retry', 503);
      assert.equal(o.kind === 'retry' && o.retryAfterMs, 2000);
    });

    it('rejects a push the service refuses with another 4xx (dead letter, the token stays)', async () => {
      const { outcome } = await sendTo({ kind: 'status', status: 400, body: '{}' });
      expectKind(outcome, 'rejected', 400);
    });

    it('gives up on a service that never answers after its timeout, asking for a retry with status 0', async () => {
      const started = performance.now();
      const { outcome } = await sendTo({ kind: 'hang' });
      const took = performance.now() - started;
      expectKind(outcome, 'retry', 0);
      assert.equal(outcome.kind === 'retry' && outcome.reason, 'timeout');
      assert.ok(took >= h.timeoutMs - 20 && took < h.timeoutMs + 1500, `took ${Math.round(took)} ms`);
    });

    it('asks for a retry with status 0 when the service cannot be reached', async () => {
      const u = await h.unreachable();
      try {
        const outcome = await u.provider.send(u.target, testPayload());
        expectKind(outcome, 'retry', 0);
        assert.match(outcome.kind === 'retry' ? outcome.reason : '', /network error|closed/);
      } finally {
        await u.provider.close();
      }
    });

    it('carries the opaque preview when it fits, and drops only the preview when it does not', async () => {
      const fits = 'A'.repeat(h.previewFits);
      secrets.push(fits);
      const small = await sendTo(undefined, testPayload({ preview: fits }));
      expectKind(small.outcome, 'sent');
      assert.equal(h.previewOf(small.got[0]!), fits);
      const big = 'B'.repeat(h.previewTooBig);
      secrets.push(big);
      const large = await sendTo(undefined, testPayload({ preview: big }));
      expectKind(large.outcome, 'sent');
      assert.equal(large.got.length, 1, 'the push still goes out');
      assert.equal(h.previewOf(large.got[0]!), undefined);
      assert.deepEqual(h.server.problems, []);
    });

    it('never writes a token or a preview to the log', () => {
      assert.ok(lines.length > 0, 'the provider logged something to check');
      for (const s of secrets) {
        for (const l of lines) assert.ok(!l.includes(s), `a log line holds a secret: ${l.slice(0, 200)}`);
      }
    });
  });
}
