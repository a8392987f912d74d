/**
 * `parley download CHAT SEQ`: downloads, checks and decrypts the file of a message this
 * device read in `parley chat` (its pointer is in the profile's history), with a progress
 * line on stderr. The encrypted bytes are kept as they arrive in
 * `<profile>.downloads/<media id>.part`, so a download that was cut off (the connection
 * dropped, the command killed) goes on from there when run again (`Range` + `If-Range`); the
 * part is removed once the file is saved. Nothing in clear is written before the digest
 * and the decryption check out.
 */
import { stat } from 'node:fs/promises';
import { COMMON_HELP, optional, parseCommand } from '../args.js';
import { receivedFileTarget, writeReceivedFile } from '../attachments.js';
import { findChat } from '../chat-lookup.js';
import { parseSeq } from '../chat-messages.js';
import { CliError, UsageError } from '../errors.js';
import { fileLabel } from '../format-message.js';
import { downloadKept, keptPart, removeKeptPart } from '../kept-downloads.js';
import { MessageArchive } from '../message-archive.js';
import { ProgressLine } from '../progress.js';
import { openSession } from '../session.js';

const HELP = `Usage: parley download CHAT SEQ [--out PATH] [--limit-rate RATE] [--profile NAME]

Downloads the file of message SEQ in CHAT, checks and decrypts it, and saves it to PATH:
a new file, or a directory (then under the sender's file name); default: the current
directory. An existing file is never overwritten.
CHAT is a chat id, the +phone number of a direct chat, or the chat's name as "parley chat"
shows it (in brackets); SEQ is the message's number there (#SEQ). The message must be one
"parley chat" showed on this device: only it keeps the file's key.
Progress goes to stderr (bytes, percent, rate, time left). A download that was cut off
resumes where it stopped when run again: the encrypted bytes so far wait in
$PARLEY_HOME/<profile>.downloads until the file is saved (encrypted: the key stays in the
profile's history; /save in "parley chat" goes on from them too). Like "parley send", it
cannot run while "parley chat" uses the same profile (KEY_STORE_BUSY): quit the chat first,
or use /save there.

Options:
  --out PATH          where to save the file (default: the current directory)
  --limit-rate RATE   at most RATE bytes a second (e.g. 500K, 2M), to leave the line to others
${COMMON_HELP}
`;

const OPTIONS = { out: { type: 'string' }, 'limit-rate': { type: 'string' } } as const;

/** `500K`, `2M`, `1048576`: bytes a second. */
function parseRate(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)([KkMmGg]?)$/.exec(raw);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m?.[2] ?? '').toLowerCase()];
  const rate = m && unit ? Math.floor(Number(m[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(rate) || rate < 1024)
    throw new UsageError('--limit-rate is bytes a second, 1K or more (e.g. 500K, 2M)');
  return rate;
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, positionals, help } = parseCommand(
    { help: HELP, options: OPTIONS, maxPositionals: 2 },
    argv,
  );
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [chatArg, seqArg] = positionals;
  if (chatArg === undefined || seqArg === undefined)
    throw new UsageError(`give CHAT and SEQ\n\n${HELP.trimEnd()}`);
  const seq = parseSeq(seqArg);
  const out = optional(values, 'out') ?? '.';
  const rawRate = optional(values, 'limit-rate');
  const rate = rawRate === undefined ? undefined : parseRate(rawRate);

  const session = await openSession(values, env, { receive: false, history: true });
  await session.start();
  try {
    const chat = await findChat(session.client, session.contacts, chatArg);
    const chatName = session.contacts.chatName(chat);
    const entry = (await new MessageArchive(session.history!).load(chat.id, Date.now())).find(
      (e) => e.seq === seq,
    );
    if (!entry)
      throw new CliError(
        `no message #${seq} of ${chatName} on this device ("parley chat" keeps what it shows)`,
      );
    const file = entry.deleted ? undefined : entry.file;
    if (!file) throw new CliError(`message #${seq} of ${chatName} has no file`);
    if (!file.pointer)
      throw new CliError(`message #${seq} is a file sent from this device: it is not kept here`);
    const target = await receivedFileTarget(out, file, seq);
    if (await stat(target).catch(() => undefined)) throw new CliError(`${target} exists: give another --out`);

    const part = await keptPart(session.paths.downloads, file.pointer.mediaId);
    process.stderr.write(`Downloading ${fileLabel(file)} from ${chatName}…\n`);
    const bytes = await downloadKept(part, async (have, onChunk) => {
      const progress = new ProgressLine(process.stderr, file.name ?? `file-${seq}`);
      const started = Date.now();
      return session.secure.download(file.pointer!, {
        ...(have.length > 0 && { have }),
        onChunk: async (chunk, offset) => {
          await onChunk(chunk, offset);
          if (rate === undefined) return;
          const due = started + ((offset + chunk.length - have.length) / rate) * 1000;
          if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        },
        onProgress: (received, total) => progress.update(received, total, have.length),
      });
    });
    const written = await writeReceivedFile(target, file, seq, bytes);
    await removeKeptPart(part);
    process.stdout.write(`Saved ${fileLabel(file)} to ${written}.\n`);
    return 0;
  } finally {
    await session.close();
  }
}
