/**
 * Calls through the SDK and a real node: `Calls` over SecureMessaging with real libsignal
 * sessions, and a peer connection that speaks fake SDP and candidates (no WebRTC in Node).
 * Ringing on both of the callee's devices, the answer on one, candidates both ways, hangup,
 * the call event in both users' chats, glare answered by itself; then the server's files and
 * log are searched for the SDP and the candidates.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import {
  type CallEnded,
  Calls,
  ChatKind,
  type Credentials,
  createLinkCode,
  type IceCandidateLike,
  type IncomingCall,
  linkDevice,
  type PeerConnectionLike,
  type ReceivedChatUpdate,
  type SessionDescriptionLike,
} from '@parley/sdk';
import pino from 'pino';
import { filesUnder } from './db-scan.js';
import { startNode, type TestNode } from './harness.js';
import { newUser, until } from './sdk-helpers.js';
import { type SecureDevice, SecureDevices } from './secure-devices.js';

const TURN_SECRET = 'sdk-calls-turn-secret';

/** A peer connection with fake SDP: records what it is given, finds two candidates. */
class FakePeer implements PeerConnectionLike {
  onicecandidate: ((event: { candidate: IceCandidateLike | null }) => void) | null = null;
  remote: SessionDescriptionLike | undefined;
  readonly candidates: IceCandidateLike[] = [];
  closed = false;
  constructor(
    readonly marker: string,
    readonly config: unknown,
  ) {}
  async createOffer() {
    return { type: 'offer', sdp: `v=0 o=- offer ${this.marker} a=fingerprint:sha-256 AB:CD` };
  }
  async createAnswer() {
    return { type: 'answer', sdp: `v=0 o=- answer ${this.marker} a=fingerprint:sha-256 EF:01` };
  }
  async setLocalDescription(): Promise<void> {
    setTimeout(() => {
      for (const n of [1, 2])
        this.onicecandidate?.({
          candidate: {
            candidate: `candidate:${n} 1 udp 2122 10.9.8.${n} 5000${n} typ host ${this.marker}`,
            sdpMid: '0',
          },
        });
      this.onicecandidate?.({ candidate: null });
    }, 5);
  }
  async setRemoteDescription(d: SessionDescriptionLike): Promise<void> {
    this.remote = d;
  }
  async addIceCandidate(c: IceCandidateLike): Promise<void> {
    this.candidates.push(c);
  }
  close(): void {
    this.closed = true;
  }
}

interface Phone {
  d: SecureDevice;
  calls: Calls;
  peers: FakePeer[];
  ringing: IncomingCall[];
  connected: string[];
  ended: CallEnded[];
  updates: ReceivedChatUpdate[];
  errors: Error[];
}

describe('calls through the SDK', () => {
  let t: TestNode;
  let logFile: string;
  const devices = new SecureDevices();
  const markers: string[] = [];

  async function phone(creds: Credentials): Promise<Phone> {
    const d = await devices.device(creds);
    const marker = `SDP-SECRET-${randomBytes(6).toString('hex')}`;
    markers.push(marker);
    const p: Phone = {
      d,
      calls: undefined!,
      peers: [],
      ringing: [],
      connected: [],
      ended: [],
      updates: [],
      errors: [],
    };
    p.calls = new Calls(d.secure, {
      peerConnection: (config) => {
        const pc = new FakePeer(marker, config);
        p.peers.push(pc);
        return pc;
      },
    });
    p.calls.on('ringing', (c) => void p.ringing.push(c));
    p.calls.on('connected', (c) => void p.connected.push(c.callId));
    p.calls.on('ended', (e) => void p.ended.push(e));
    p.calls.on('error', (e) => void p.errors.push(e));
    d.client.on('chatUpdate', (u) => void p.updates.push(u));
    p.calls.start();
    return p;
  }

  async function linked(primary: Credentials): Promise<Credentials> {
    const { code } = await createLinkCode(primary);
    return linkDevice(t.url, { code, deviceName: 'tablet' });
  }

  /** A direct chat between two users in which both wrote (so calls ring both ways). */
  async function chatBetween(a: Phone, b: Phone): Promise<string> {
    const chat = await a.d.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [b.d.creds.userId] });
    await a.d.secure.send(chat.id, { text: 'hi' });
    await b.d.secure.send(chat.id, { text: 'hello' });
    return chat.id;
  }

  before(async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'parley-calls-node-'));
    logFile = join(dataDir, 'node.log');
    const log = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true }));
    t = await startNode({ dataDir, turnSecret: TURN_SECRET, turnUrls: 'turn:127.0.0.1:3478' }, { log });
  });
  afterEach(() => devices.closeAll());
  after(async () => {
    await devices.dispose();
    await t.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
  });

  it('rings both devices, one answers, candidates flow both ways, hangup ends it on both sides', async () => {
    const aliceCreds = await newUser(t);
    const bobCreds = await newUser(t);
    const alice = await phone(aliceCreds);
    const bob = await phone(bobCreds);
    const bobTablet = await phone(await linked(bobCreds));
    const chatId = await chatBetween(alice, bob);

    const started = await alice.calls.startCall(chatId, { video: true });
    assert.equal(started.state, 'ringing');
    await until(
      () => bob.ringing.length === 1 && bobTablet.ringing.length === 1,
      'both bob devices ring',
      10_000,
    );
    assert.deepEqual(
      [bob.ringing[0]!.callId, bob.ringing[0]!.callerUserId, bob.ringing[0]!.video],
      [started.callId, aliceCreds.userId, true],
    );
    // The peer connections got TURN servers from the node.
    assert.deepEqual(
      (alice.peers[0]!.config as { iceServers: Array<{ urls: string[] }> }).iceServers[0]!.urls,
      ['turn:127.0.0.1:3478'],
    );

    await bobTablet.calls.answerCall(started.callId);
    await until(() => alice.connected.length === 1, 'alice connected', 10_000);
    await until(() => bob.ended.length === 1, 'the phone stops ringing', 10_000);
    assert.equal(bob.ended[0]!.reason, 'answered-elsewhere');
    const [aPeer, tPeer] = [alice.peers[0]!, bobTablet.peers[0]!];
    // Each side has the other's SDP, decrypted.
    assert.equal(tPeer.remote?.type, 'offer');
    assert.match(tPeer.remote?.sdp ?? '', new RegExp(markers[0]!));
    assert.equal(aPeer.remote?.type, 'answer');
    assert.match(aPeer.remote?.sdp ?? '', new RegExp(markers[2]!));
    await until(
      () => aPeer.candidates.length === 2 && tPeer.candidates.length === 2,
      'candidates both ways',
      10_000,
    );
    assert.match(aPeer.candidates[0]!.candidate, /10\.9\.8\.1/);

    await bobTablet.calls.hangup(started.callId);
    await until(() => alice.ended.length === 1, 'alice hears the hangup', 10_000);
    assert.equal(alice.ended[0]!.reason, 'hangup');
    assert.equal(aPeer.closed && tPeer.closed, true);
    for (const p of [alice, bob, bobTablet]) {
      await until(() => p.updates.some((u) => u.update.call), 'call event', 10_000);
      const call = p.updates.find((u) => u.update.call)!.update.call!;
      assert.deepEqual([call.callId, call.reason, call.video], [started.callId, 'hangup', true]);
    }
    for (const p of [alice, bob, bobTablet]) assert.deepEqual(p.errors, []);
  });

  it('a declined call ends on the caller; glare ends in one connected call', async () => {
    const alice = await phone(await newUser(t));
    const bob = await phone(await newUser(t));
    const chatId = await chatBetween(alice, bob);
    const first = await alice.calls.startCall(chatId);
    await until(() => bob.ringing.length === 1, 'bob rings', 10_000);
    await bob.calls.declineCall(first.callId);
    await until(() => alice.ended.length === 1, 'alice told', 10_000);
    assert.equal(alice.ended[0]!.reason, 'declined');

    // Both call at once: the lower call id wins and the losing side answers it by itself.
    await Promise.all([alice.calls.startCall(chatId), bob.calls.startCall(chatId)]);
    await until(
      () => alice.connected.length === 1 && bob.connected.length === 1,
      'one call connects',
      10_000,
    );
    assert.equal(alice.connected[0], bob.connected[0], 'the same call on both sides');
    assert.ok([...alice.ended, ...bob.ended].some((e) => e.reason === 'glare'));
    await alice.calls.hangup(alice.connected[0]!);
    await until(() => bob.ended.some((e) => e.reason === 'hangup'), 'bob hears the hangup', 10_000);
    for (const p of [alice, bob]) assert.deepEqual(p.errors, [], String(p.errors.map((e) => e.stack)));
  });

  it('the server holds no SDP or candidate: its files and log are searched', async () => {
    await t.node.stop();
    const files = [...filesUnder(t.dataDir), logFile];
    assert.ok(files.some((f) => f.endsWith('parley.db')));
    assert.ok(readFileSync(logFile, 'utf8').includes('call ended'), 'the node logged the calls');
    assert.ok(markers.length >= 5);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const m of markers) assert.equal(bytes.includes(Buffer.from(m)), false, `${m} found in ${f}`);
      assert.equal(bytes.includes(Buffer.from('10.9.8.1')), false, `a candidate address found in ${f}`);
    }
    t = await startNode({ dataDir: t.dataDir }, { log: pino({ level: 'silent' }) });
  });
});
