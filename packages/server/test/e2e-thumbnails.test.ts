/**
 * Thumbnails end to end through a real node: a photo sent with the Node thumbnailer arrives
 * with its size as shown, a thumbnail and a blurhash inside the encrypted pointer; the file the
 * recipient downloads has no EXIF/GPS left; the node stores none of the metadata, the
 * thumbnail or the pointer in clear. A video sent where ffmpeg is missing says so.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { ChatKind } from '@parley/sdk';
import { nodeThumbnailer } from '@parley/sdk/node';
import { photoWithExif } from '@parley/sdk/testing';
import { filesUnder } from './db-scan.js';
import { startNode, type TestNode } from './harness.js';
import { newUser, until } from './sdk-helpers.js';
import { SecureDevices } from './secure-devices.js';

describe('encrypted thumbnails through a real node', () => {
  const devices = new SecureDevices();
  let t: TestNode;
  before(async () => {
    t = await startNode({ dataDir: mkdtempSync(join(tmpdir(), 'parley-thumbs-node-')) });
  });
  afterEach(() => devices.closeAll());
  after(async () => {
    await devices.dispose();
    await t.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
  });

  it('a photo arrives with its size, thumbnail and blurhash, and without its metadata; the node sees none of it', async () => {
    const [aliceCreds, bobCreds] = [await newUser(t), await newUser(t)];
    const alice = await devices.device(aliceCreds, { thumbnailer: nodeThumbnailer() });
    const bob = await devices.device(bobCreds);
    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
    const marker = `GPS-SPOT-${randomBytes(6).toString('hex')}`;
    const photo = await photoWithExif({ width: 1600, height: 1200, marker });
    const sent = await alice.secure.sendFile(chat.id, photo, { mime: 'image/jpeg', name: 'beach.jpg' });
    assert.equal(sent.previewNote, undefined);

    await until(() => bob.received.some((m) => m.content.attachment), 'the photo arrives', 10_000);
    const pointer = bob.received.find((m) => m.content.attachment)!.content.attachment!;
    assert.deepEqual([pointer.width, pointer.height], [1200, 1600], 'as shown: turned by its orientation');
    assert.deepEqual([pointer.thumbnail?.width, pointer.thumbnail?.height], [240, 320]);
    assert.equal(pointer.thumbnail?.mime, 'image/jpeg');
    assert.ok(pointer.blurhash);
    const got = Buffer.from(await bob.secure.download(pointer));
    assert.equal(got.includes(marker), false, 'no EXIF in what was sent');
    assert.equal(pointer.size, got.length);

    // Kept when asked.
    const kept = await alice.secure.sendFile(chat.id, photo, { mime: 'image/jpeg' }, { keepMetadata: true });
    assert.ok(Buffer.from(await alice.secure.download(kept.attachment)).includes(marker));

    await t.node.stop();
    const thumb = Buffer.from(pointer.thumbnail!.bytes).subarray(200, 264);
    for (const f of filesUnder(t.dataDir)) {
      const bytes = readFileSync(f);
      for (const needle of [
        Buffer.from(marker),
        thumb,
        Buffer.from(pointer.blurhash!),
        Buffer.from('beach.jpg'),
      ])
        assert.equal(bytes.includes(needle), false, `found in ${f}`);
    }
    t = await startNode({ dataDir: t.dataDir });
  });

  it('a video sent where ffmpeg is missing goes without a poster frame, and says why', async () => {
    const [aliceCreds, bobCreds] = [await newUser(t), await newUser(t)];
    const thumbnailer = nodeThumbnailer({
      ffmpegPath: '/nonexistent/ffmpeg',
      ffprobePath: '/nonexistent/ffprobe',
    });
    const alice = await devices.device(aliceCreds, { thumbnailer });
    await devices.device(bobCreds);
    const chat = await alice.client.createChat({ kind: ChatKind.DIRECT, memberUserIds: [bobCreds.userId] });
    const ftyp = Buffer.from('000000186674797069736f6d0000020069736f6d69736f32', 'hex');
    const sent = await alice.secure.sendFile(chat.id, Buffer.concat([ftyp, randomBytes(5000)]), {
      mime: 'video/mp4',
      name: 'trip.mp4',
    });
    assert.match(sent.previewNote ?? '', /ffmpeg .*is not installed/);
    assert.equal(sent.attachment.thumbnail, undefined);
  });
});
