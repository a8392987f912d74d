/**
 * `parley send`: encrypts and sends one message from flags, or one per JSON line on stdin,
 * and prints each result as a JSON line in input order. Sends are queued (SecureMessaging
 * encrypts and sends them one after the other, in order); this connection does not consume
 * incoming messages (receive: false).
 */
import { createInterface } from 'node:readline';
import type { ParleyClient, SecureMessaging, SendResult } from '@parley/sdk';
import { COMMON_HELP, optional, parseCommand } from '../args.js';
import { readFileToSend } from '../attachments.js';
import type { Contacts } from '../contacts.js';
import { directChatWith } from '../directory.js';
import { UsageError } from '../errors.js';
import { ProgressLine } from '../progress.js';
import { parseSendLine, type SendLine, type SendTarget } from '../send-input.js';
import { openSession } from '../session.js';

const HELP = `Usage: parley send --chat CHAT_ID --text TEXT [--profile NAME]
       parley send --to +E164 --text TEXT [--profile NAME]
       parley send (--chat CHAT_ID | --to +E164) --file PATH [--text CAPTION] [--keep-metadata]
                   [--profile NAME]
       parley send [--profile NAME] < lines.jsonl

Sends a message and prints the result as a JSON line:
  {"chatId":"c_…","seq":13,"serverTime":1768471200000,"clientMessageId":"…"}
--to opens (or creates) the direct chat with that phone number. Without --text, reads
JSON lines from stdin, each {"chatId":"…","text":"…"} or {"to":"+1…","text":"…"}; a line
that fails prints {"line":N,"error":{"code","message"}} and the exit code is 1.
Incoming messages are left for "parley chat" or "parley listen". Messages are end-to-end
encrypted for every device of the chat's members (and your other devices); the text is not
kept on this device.

Options:
  --chat CHAT_ID   the chat to send to
  --to +E164       send to the direct chat with this phone number
  --text TEXT      the message (with --file: its caption)
  --file PATH      send a file, encrypted; progress goes to stderr. Files of 4 MiB and more
                   go up in chunks, and a send that was cut off (the connection dropped,
                   the command killed) resumes where the server got to when run again
                   (PARLEY_UPLOAD_CHUNK_BYTES sets the chunk size). Photos go without their
                   EXIF/GPS metadata; photos and videos go with a thumbnail (a video's needs
                   ffmpeg: without it, a line on stderr says so), inside the encryption
  --keep-metadata  with --file: keep a photo's EXIF/GPS metadata
${COMMON_HELP}
`;

const OPTIONS = {
  chat: { type: 'string' },
  to: { type: 'string' },
  text: { type: 'string' },
  file: { type: 'string' },
  'keep-metadata': { type: 'boolean' },
} as const;
const MAX_PENDING = 256;

function resultJson(r: SendResult): string {
  return JSON.stringify({
    chatId: r.chatId,
    seq: r.seq,
    serverTime: r.serverTime,
    clientMessageId: r.clientMessageId,
  });
}

function errorJson(line: number | undefined, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  return JSON.stringify({
    ...(line === undefined ? {} : { line }),
    error: { code: code ?? 'INVALID_ARGUMENT', message },
  });
}

/** Chat ids for targets, resolving phone numbers once each. */
function chatResolver(client: ParleyClient, contacts: Contacts) {
  const byPhone = new Map<string, Promise<string>>();
  return (target: SendTarget): Promise<string> => {
    if ('chatId' in target) return Promise.resolve(target.chatId);
    let id = byPhone.get(target.to);
    if (!id) {
      id = directChatWith(client, contacts, target.to).then((c) => c.id);
      byPhone.set(target.to, id);
    }
    return id;
  };
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, help } = parseCommand({ help: HELP, options: OPTIONS }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const text = optional(values, 'text');
  const chat = optional(values, 'chat');
  const to = optional(values, 'to');
  const file = optional(values, 'file');
  if (file !== undefined) {
    if ((chat === undefined) === (to === undefined))
      throw new UsageError('give exactly one of --chat or --to with --file');
    if (file === '') throw new UsageError('--file must name a file');
    const target = chat !== undefined ? { chatId: chat } : { to: to! };
    return sendFileCommand(values, env, file, target, text, values['keep-metadata'] === true);
  }
  if (values['keep-metadata'] !== undefined) throw new UsageError('--keep-metadata goes with --file');
  if (text !== undefined && (chat === undefined) === (to === undefined)) {
    throw new UsageError('give exactly one of --chat or --to with --text');
  }
  if (text === undefined && (chat !== undefined || to !== undefined)) throw new UsageError('missing --text');
  if (text === '') throw new UsageError('--text must not be empty');

  const session = await openSession(values, env, { receive: false });
  await session.start();
  const { client, secure, contacts } = session;
  try {
    const chatIdOf = chatResolver(client, contacts);
    if (text !== undefined) {
      const chatId = await chatIdOf(chat !== undefined ? { chatId: chat } : { to: to! });
      process.stdout.write(`${resultJson(await secure.send(chatId, { text }))}\n`);
      return 0;
    }
    return await sendLines(secure, chatIdOf);
  } finally {
    await session.close();
  }
}

async function sendLines(
  secure: SecureMessaging,
  chatIdOf: (t: SendTarget) => Promise<string>,
): Promise<number> {
  let failed = false;
  let lineNo = 0;
  // Results print in input order: each line's output waits for the previous one.
  let printed: Promise<void> = Promise.resolve();
  let pending = 0;
  const print = (line: number, outcome: Promise<SendResult>) => {
    pending++;
    const out = outcome.then(resultJson, (err) => {
      failed = true;
      return errorJson(line, err);
    });
    printed = printed.then(async () => {
      process.stdout.write(`${await out}\n`);
      pending--;
    });
  };
  for await (const raw of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    lineNo++;
    if (raw.trim() === '') continue;
    let line: SendLine;
    try {
      line = parseSendLine(raw);
    } catch (err) {
      print(lineNo, Promise.reject(err));
      continue;
    }
    // Resolve the chat before the next line is read, so sends enter the outbox in input order.
    let chatId: string;
    try {
      chatId = await chatIdOf(line);
    } catch (err) {
      print(lineNo, Promise.reject(err));
      continue;
    }
    print(lineNo, secure.send(chatId, { text: line.text }));
    if (pending >= MAX_PENDING) await printed;
  }
  await printed;
  if (failed) process.stderr.write('parley: some sends failed (see the error lines)\n');
  return failed ? 1 : 0;
}

/** `--file`: reads, encrypts and sends one file, with progress on stderr. */
async function sendFileCommand(
  values: Parameters<typeof openSession>[0],
  env: NodeJS.ProcessEnv,
  path: string,
  target: SendTarget,
  caption: string | undefined,
  keepMetadata: boolean,
): Promise<number> {
  const f = await readFileToSend(path);
  const session = await openSession(values, env, { receive: false });
  await session.start();
  const { client, secure, contacts } = session;
  try {
    const chatId = await chatResolver(client, contacts)(target);
    const progress = new ProgressLine(process.stderr, f.name);
    const result = await secure.sendFile(
      chatId,
      f.bytes,
      { name: f.name, mime: f.mime, ...(caption !== undefined && { text: caption }) },
      {
        onProgress: (sent, total, resumedAt) => progress.update(sent, total, resumedAt),
        ...(chunkBytes(env) !== undefined && { chunkBytes: chunkBytes(env) }),
        ...(keepMetadata && { keepMetadata }),
      },
    );
    if (result.previewNote) process.stderr.write(`${f.name}: ${result.previewNote}\n`);
    process.stdout.write(`${resultJson(result)}\n`);
    return 0;
  } finally {
    await session.close();
  }
}

/** PARLEY_UPLOAD_CHUNK_BYTES: bytes per chunk of a resumable upload (default: the server's suggestion, else 4 MiB). */
function chunkBytes(env: NodeJS.ProcessEnv): number | undefined {
  const raw = env.PARLEY_UPLOAD_CHUNK_BYTES;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 1024 || n > 256 * 1024 * 1024)
    throw new UsageError('PARLEY_UPLOAD_CHUNK_BYTES is a number of bytes from 1024 to 268435456');
  return n;
}
