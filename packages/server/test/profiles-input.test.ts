/**
 * Malformed profile and group-icon requests over a real socket: every one gets a stable error
 * code, stores nothing and leaves the socket usable; profile contents and ciphertext never
 * reach the log.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FrameInit } from '@parley/protocol';
import { pino } from 'pino';
import { PROFILE_CHANGES_PAGE } from '../src/profiles/service.js';
import { answerCode, createGroup, RawClient, register, startNode, type TestNode } from './harness.js';

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const sealed = (n: number, fill = 7) => new Uint8Array(n).fill(fill);

describe('profiles: malformed requests', () => {
  let t: TestNode;
  let logDir: string;
  let logFile: string;
  let a: RawClient;
  let b: RawClient;
  let aId: string;
  let bId: string;

  before(async () => {
    logDir = mkdtempSync(join(tmpdir(), 'parley-profile-input-'));
    logFile = join(logDir, 'node.log');
    const log = pino({ level: 'trace' }, pino.destination({ dest: logFile, sync: true }));
    t = await startNode({}, { log });
    const ua = await register(t);
    const ub = await register(t);
    aId = ua.userId;
    bId = ub.userId;
    a = await RawClient.connect(t, ua);
    b = await RawClient.connect(t, ub);
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await t.stop();
    rmSync(logDir, { recursive: true, force: true });
  });

  const code = async (c: RawClient, body: FrameInit['body']) => answerCode(await c.request(body));
  const set = (version: bigint, ciphertext: Uint8Array) =>
    code(a, { case: 'setProfile', value: { version, ciphertext } });

  it('setProfile refuses a bad version, an empty or oversized ciphertext and a stale version, with stable codes', async () => {
    assert.equal(await set(0n, sealed(100)), 'INVALID_ARGUMENT', 'version 0');
    assert.equal(await set(MAX_SAFE + 1n, sealed(100)), 'INVALID_ARGUMENT', 'version past 2^53 - 1');
    assert.equal(await set(1n, new Uint8Array(0)), 'INVALID_ARGUMENT', 'empty ciphertext');
    assert.equal(await set(1n, sealed(4097)), 'PAYLOAD_TOO_LARGE', 'ciphertext over 4096 bytes');
    const none = await a.call<{ profiles: unknown[] }>({ case: 'getProfiles', value: { userIds: [aId] } });
    assert.deepEqual(none.profiles, [], 'nothing was stored by the refused requests');
    assert.equal(await set(5n, sealed(4096, 1)), 'profileResult', 'the largest ciphertext is accepted');
    assert.equal(await set(5n, sealed(100, 2)), 'PROFILE_VERSION_STALE', 'the same version again');
    assert.equal(await set(4n, sealed(100, 3)), 'PROFILE_VERSION_STALE', 'an older version');
    const kept = await a.call<{ profiles: Array<{ version: bigint; ciphertext: Uint8Array }> }>({
      case: 'getProfiles',
      value: { userIds: [aId] },
    });
    assert.equal(kept.profiles[0]?.version, 5n);
    assert.deepEqual(kept.profiles[0]?.ciphertext, sealed(4096, 1), 'the stale puts changed nothing');
    assert.equal(await set(MAX_SAFE, sealed(10)), 'profileResult', 'the highest version is accepted');
  });

  it('getProfiles refuses no ids, too many ids and malformed ids; unknown users are simply absent', async () => {
    const get = (userIds: string[]) => code(b, { case: 'getProfiles', value: { userIds } });
    assert.equal(await get([]), 'INVALID_ARGUMENT');
    assert.equal(await get(Array.from({ length: 257 }, (_, i) => `u${i}`)), 'INVALID_ARGUMENT');
    assert.equal(await get(['']), 'INVALID_ARGUMENT');
    assert.equal(await get(['x'.repeat(65)]), 'INVALID_ARGUMENT');
    const r = await b.call<{ profiles: unknown[] }>({
      case: 'getProfiles',
      value: { userIds: [aId, 'no-such-user', ...Array.from({ length: 254 }, (_, i) => `u${i}`)] },
    });
    assert.deepEqual(r.profiles, [], 'a stranger and unknown users look the same: absent');
  });

  it('profileChanges refuses a malformed page boundary and an out-of-range time', async () => {
    const changes = (since: bigint, afterUserId: string) =>
      code(b, { case: 'profileChanges', value: { since, afterUserId } });
    assert.equal(await changes(0n, 'x'.repeat(65)), 'INVALID_ARGUMENT');
    assert.equal(await changes(MAX_SAFE + 1n, ''), 'INVALID_ARGUMENT');
    assert.equal(await changes(0n, ''), 'profileChangesResult');
    assert.ok(PROFILE_CHANGES_PAGE > 0);
  });

  it('once they share a chat the other user sees the profile and its version in the catch-up', async () => {
    await createGroup(a, [bId], 'pair');
    const r = await b.call<{ profiles: Array<{ userId: string }> }>({
      case: 'getProfiles',
      value: { userIds: [aId] },
    });
    assert.deepEqual(
      r.profiles.map((p) => p.userId),
      [aId],
    );
    const page = await b.call<{ profiles: Array<{ userId: string }>; more: boolean }>({
      case: 'profileChanges',
      value: { since: 0n, afterUserId: '' },
    });
    assert.deepEqual(
      page.profiles.map((p) => p.userId),
      [aId],
    );
    assert.equal(page.more, false);
  });

  it('updateChat refuses an icon that is not a media id, and sets and removes one', async () => {
    const chatId = await createGroup(a, [bId], 'icons');
    const update = (iconMediaId: string) => code(a, { case: 'updateChat', value: { chatId, iconMediaId } });
    for (const bad of [
      'x',
      'A'.repeat(64),
      'a'.repeat(63),
      'a'.repeat(65),
      `${'a'.repeat(63)} `,
      '../etc/passwd',
    ]) {
      assert.equal(await update(bad), 'INVALID_ARGUMENT', JSON.stringify(bad));
    }
    const icon = 'c'.repeat(64);
    const set = await a.call<{ chat: { iconMediaId: string } }>({
      case: 'updateChat',
      value: { chatId, iconMediaId: icon },
    });
    assert.equal(set.chat.iconMediaId, icon);
    const pushed = await b.waitFor(
      (f) =>
        f.body.case === 'deliver' &&
        f.body.value.messages.some(
          (m) => m.chatId === chatId && m.body.case === 'chatUpdate' && m.body.value.iconMediaId === icon,
        ),
    );
    assert.ok(pushed, 'members get the icon as a chat update');
    const cleared = await a.call<{ chat: { iconMediaId: string } }>({
      case: 'updateChat',
      value: { chatId, iconMediaId: '' },
    });
    assert.equal(cleared.chat.iconMediaId, '');
    // Only admins change the icon once the group says so.
    await a.call({ case: 'updateChat', value: { chatId, onlyAdminsEditInfo: true } });
    assert.equal(
      await code(b, { case: 'updateChat', value: { chatId, iconMediaId: icon } }),
      'PERMISSION_DENIED',
    );
  });

  it('the log holds no profile ciphertext', () => {
    const log = readFileSync(logFile, 'utf8');
    assert.ok(log.length > 0);
    assert.equal(log.includes(Buffer.from(sealed(100, 2)).toString('base64')), false);
    assert.equal(log.includes('BwcHBwcH'), false, 'no base64 run of the test ciphertext');
  });
});
