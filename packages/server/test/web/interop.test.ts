/**
 * Browsers and a real `parley chat` process on one node, end to end encrypted: two browser
 * users and a command-line user exchange messages and files both ways in a direct chat and
 * in a group the browser creates by phone numbers (whose admin then promotes, invites and
 * removes from the web client); then the node's database, WAL and log hold none of the texts,
 * file contents or file names.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { photoWithExif } from '@parley/sdk/testing';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { filesUnder } from '../db-scan.js';
import { nextPhone, startNode, type TestNode } from '../harness.js';
import { chromiumSkip, launchChromium } from './chromium.js';
import { type CliProcess, parley, registerCli } from './cli-process.js';
import { message, registerInPage, sendText, startChat } from './web-user.js';

const PHONE = { width: 390, height: 844 };
const marker = (what: string) => `${what}-${randomBytes(6).toString('hex')}`;

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 6000 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), `timed out waiting for ${what}`);
}

/** Clicks a file's download link in `page` and returns the bytes saved. */
async function download(page: Page, name: string): Promise<Buffer> {
  const link = page.getByRole('button', { name: `Download ${name}` }).last();
  await link.waitFor({ timeout: 60_000 });
  const [d] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(d.suggestedFilename(), name);
  return readFileSync(await d.path());
}

describe('browsers and a parley chat process in 1:1 and in a group', { skip: chromiumSkip() }, () => {
  let t: TestNode;
  let logFile: string;
  let browser: Browser;
  let ann: Page;
  let ben: Page;
  let carl: CliProcess;
  let work: string;
  const annPhone = nextPhone();
  const benPhone = nextPhone();
  const carlPhone = nextPhone();
  /** Everything that must never be readable on the node. */
  const secrets: string[] = [];
  const secret = (what: string) => {
    const s = marker(what);
    secrets.push(s);
    return s;
  };

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'parley-web-interop-'));
    const dataDir = join(work, 'node');
    logFile = join(work, 'node.log');
    const log = pino({ level: 'debug' }, pino.destination({ dest: logFile, sync: true, mkdir: true }));
    t = await startNode({ dev: true, smsProvider: 'console', dataDir }, { sms: undefined, log });
    browser = await launchChromium();
    ann = await (await browser.newContext({ viewport: PHONE })).newPage();
    ben = await (await browser.newContext({ viewport: PHONE })).newPage();
    await registerInPage(ann, t, annPhone);
    await registerInPage(ben, t, benPhone);
    // Carl registers with the CLI, with the code the dev-mode node wrote to its log.
    const home = join(work, 'home');
    await registerCli(home, t, carlPhone, ['--name', 'carl-cli']);
    carl = parley(home, ['chat']);
    await carl.see('Connected as');
  });
  after(async () => {
    carl?.child.kill();
    await browser?.close();
    await t?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('a direct chat: messages and files both ways between a browser and the CLI', async () => {
    const toCarl = secret('WEB-TO-CLI');
    await startChat(ann, carlPhone);
    await sendText(ann, toCarl);
    await carl.see(toCarl);
    carl.type(`/new ${annPhone}`);
    await carl.see(`Opened ${annPhone}`);
    const toAnn = secret('CLI-TO-WEB');
    carl.type(toAnn);
    await message(ann, toAnn);

    // A file from the browser, saved by the CLI.
    const webFile = `${secret('web-file')}.txt`;
    const webBody = secret('WEB FILE BODY');
    await ann.getByLabel('File to send').setInputFiles({
      name: webFile,
      mimeType: 'text/plain',
      buffer: Buffer.from(webBody),
    });
    const re = new RegExp(`#(\\d+) \\S+: \\[file ${webFile}`);
    await carl.see(re);
    const seq = re.exec(carl.output())![1]!;
    const saved = join(work, 'saved-1.txt');
    carl.type(`/save ${seq} ${saved}`);
    await until(() => existsSync(saved) && readFileSync(saved, 'utf8') === webBody, 'the CLI saved the file');

    // A photo from the browser: it leaves without its metadata and with a thumbnail the CLI
    // shows before /save (the browser SDK's thumbnailer, inside the encryption).
    const place = secret('photo-gps-place');
    await ann.getByLabel('File to send').setInputFiles({
      name: 'photo.jpg',
      mimeType: 'image/jpeg',
      buffer: await photoWithExif({ width: 900, height: 600, marker: place }),
    });
    const photoLine = /#(\d+) \S+: \[📷 photo\.jpg, [^,]+, 600×900, thumbnail 213×320\]/;
    await carl.see(photoLine);
    const photoSeq = photoLine.exec(carl.output())![1]!;
    const savedPhoto = join(work, 'saved-photo.jpg');
    carl.type(`/save ${photoSeq} ${savedPhoto}`);
    await until(
      () => existsSync(savedPhoto) && readFileSync(savedPhoto).length > 0,
      'the CLI saved the photo',
    );
    await until(
      () =>
        readFileSync(savedPhoto)
          .subarray(0, 2)
          .equals(Buffer.from([0xff, 0xd8])),
      'the saved photo is a whole JPEG',
    );
    assert.equal(
      readFileSync(savedPhoto).includes(Buffer.from(place)),
      false,
      'its metadata stayed in the browser',
    );

    // A file from the CLI, downloaded in the browser.
    const cliName = `${secret('cli-file')}.txt`;
    const cliBody = secret('CLI FILE BODY');
    writeFileSync(join(work, cliName), cliBody);
    carl.type(`/file ${join(work, cliName)}`);
    assert.equal((await download(ann, cliName)).toString(), cliBody);

    // What the CLI sets on the chat shows in the browser: a timer, a pin, a view-once message.
    carl.type('/timer 24h');
    await ann.getByText('Disappearing messages: new messages go after 1 day.').waitFor();
    const pinned = new RegExp(`#(\\d+) you: ${toAnn}`).exec(carl.output())?.[1];
    assert.ok(pinned, 'the CLI numbered its message');
    carl.type(`/pin ${pinned} 24h`);
    await ann.getByRole('list', { name: 'Pinned messages' }).getByText(`Pinned: ${toAnn}`).waitFor();
    const once = secret('VIEW-ONCE');
    carl.type(`/once ${once}`);
    assert.match(await (await message(ann, once)).locator('.meta').innerText(), /view once/);
  });

  it('a group made in the browser by phone numbers: messages and files between all three', async () => {
    await ann.getByRole('button', { name: '‹ Chats' }).click();
    await ann.getByText('New group').click();
    await ann.getByLabel('Group name').fill('Trip');
    await ann.getByLabel('Members (phone numbers, separated by commas)').fill(`${benPhone}, ${carlPhone}`);
    await ann.getByRole('button', { name: 'Create group' }).click();
    await ann.getByRole('heading', { name: 'Trip' }).waitFor();
    const hello = secret('GROUP-FROM-WEB');
    await sendText(ann, hello);
    await carl.see(hello);
    await ben.locator('ul.chats li', { hasText: 'Trip' }).click();
    await message(ben, hello);
    assert.match(carl.output(), /\[Trip\]/, 'the CLI shows the group by its name');

    // Carl opens the group by its id (as the browser's list has it) and writes to it.
    await ann.getByRole('button', { name: '‹ Chats' }).click();
    const chatId = await ann.locator('ul.chats li', { hasText: 'Trip' }).getAttribute('data-chat-id');
    assert.ok(chatId);
    await ann.locator('ul.chats li', { hasText: 'Trip' }).click();
    carl.type(`/open ${chatId}`);
    await carl.see('Opened Trip');
    const fromCarl = secret('GROUP-FROM-CLI');
    carl.type(fromCarl);
    await message(ann, fromCarl);
    await message(ben, fromCarl);

    const cliName = `${secret('cli-group-file')}.txt`;
    const cliBody = secret('CLI GROUP FILE BODY');
    writeFileSync(join(work, cliName), cliBody);
    carl.type(`/file ${join(work, cliName)}`);
    assert.equal((await download(ann, cliName)).toString(), cliBody);
    assert.equal((await download(ben, cliName)).toString(), cliBody);

    const webName = `${secret('web-group-file')}.txt`;
    const webBody = secret('WEB GROUP FILE BODY');
    await ann.getByLabel('File to send').setInputFiles({
      name: webName,
      mimeType: 'text/plain',
      buffer: Buffer.from(webBody),
    });
    const re = new RegExp(`\\[Trip\\] #(\\d+) \\S+: \\[file ${webName}`);
    await carl.see(re);
    const saved = join(work, 'saved-2.txt');
    carl.type(`/save ${re.exec(carl.output())![1]} ${saved}`);
    await until(
      () => existsSync(saved) && readFileSync(saved, 'utf8') === webBody,
      'the CLI saved the group file',
    );
    assert.equal((await download(ben, webName)).toString(), webBody);
  });

  it("the group's admin promotes, shares an invite link and removes, from the web client", async () => {
    await ann.getByRole('button', { name: 'Group info' }).click();
    const members = ann.getByRole('list', { name: '3 members' });
    await members.waitFor();
    assert.equal(await members.getByRole('listitem').count(), 3);
    await ann.getByRole('button', { name: `Make ${benPhone} admin` }).click();
    await members.getByRole('listitem').filter({ hasText: benPhone }).getByText('Admin').waitFor();
    await ann.getByRole('button', { name: 'Create invite link' }).click();
    const link = await ann.locator('.invite output').innerText();
    assert.match(link, new RegExp(`^${t.url}/#join=.+`));
    await ann.getByRole('button', { name: `Remove ${carlPhone}` }).click();
    await ann.getByRole('list', { name: '2 members' }).waitFor();
    await carl.see(/removed|left/i);
    await ann.getByRole('button', { name: '‹ Chat' }).click();
  });

  it("the node's database, WAL and log hold none of the texts, file contents or names", async () => {
    carl.type('/quit');
    await carl.exited;
    await browser.close();
    await t.node.stop();
    const files = [...filesUnder(t.dataDir), logFile];
    assert.ok(files.some((f) => f.endsWith('parley.db')));
    assert.ok(readFileSync(logFile).length > 0, 'the node logged');
    // The scan does read what is stored in clear: the group's name is (the server knows it).
    assert.ok(
      files.some((f) => readFileSync(f).includes(Buffer.from('Trip'))),
      'the scan sees stored clear text',
    );
    assert.ok(secrets.length >= 10);
    for (const f of files) {
      const bytes = readFileSync(f);
      for (const s of secrets) assert.equal(bytes.includes(Buffer.from(s)), false, `${s} in ${f}`);
    }
  });
});
