/**
 * `parley listen`: decrypts every incoming message and prints it as one JSON line on stdout
 * until SIGINT. Each message is acked only after its line was written (the SDK waits for
 * the listener). Nothing else is written: no history is kept.
 */
import { COMMON_HELP, parseCommand } from '../args.js';
import { formatError } from '../errors.js';
import { chatUpdateJson, messageJson } from '../format.js';
import { openSession } from '../session.js';
import { forTerminal } from '../text.js';

const HELP = `Usage: parley listen [--profile NAME]

Connects and prints each incoming message, decrypted, as a JSON line until interrupted
(Ctrl-C):
  {"chatId":"c_…","seq":12,"sender":"u_…","senderName":"Ann","text":"hello","serverTime":1768471200000}
("senderName" is the name in the sender's encrypted profile, left out while unknown.)
A file adds "file":{"name":"plan.pdf","mime":"application/pdf","size":12345} (use
"parley chat" and /save to download it). Chat changes print as
{"type":"chatUpdate","chatId":…,"kind":"MEMBERS_ADDED",…}. Status goes to stderr, as do
messages that could not be decrypted and contacts whose security code changed.
Messages are end-to-end encrypted; each can be decrypted once, so one listened to here is
not shown by "parley chat" later. One command at a time per profile: "parley send" or "chat"
with the same profile stops with KEY_STORE_BUSY while this runs; commands that only connect
take over the device's one connection and disconnect this one.

Options:
${COMMON_HELP}
`;

/** Resolves once `line` is handed to stdout (waits when the pipe is full). */
function writeLine(line: string): Promise<void> {
  return new Promise((resolve, reject) =>
    process.stdout.write(`${line}\n`, (err) => (err ? reject(err) : resolve())),
  );
}

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, help } = parseCommand({ help: HELP, options: {} }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const session = await openSession(values, env, { receive: true });
  const { client, secure, contacts } = session;
  secure.on('message', (m) => writeLine(messageJson(m, contacts.profileName(m.senderUserId))));
  secure.on('decryptFailed', (f) => {
    process.stderr.write(
      `parley: could not decrypt message #${f.seq} of chat ${f.chatId} from ${forTerminal(contacts.userName(f.senderUserId))}${f.retrying ? '; asked the sender to send it again' : ''}\n`,
    );
  });
  session.onSecurityCodeChanged((userId) => {
    process.stderr.write(
      `parley: security code with ${forTerminal(contacts.userName(userId))} changed; compare safety numbers\n`,
    );
  });
  client.on('chatUpdate', (u) => writeLine(chatUpdateJson(u)));
  const printError = (err: Error) => {
    process.stderr.write(`parley: ${formatError(err)}\n`);
  };
  client.on('error', printError);
  secure.on('error', printError);
  await session.start();
  process.stderr.write('Listening (Ctrl-C to stop)\n');
  return new Promise<number>((resolve) => {
    let announced = false; // one notice per outage, not one per failed attempt
    client.on('disconnected', (d) => {
      if (d.willReconnect) {
        if (!announced) process.stderr.write(`parley: disconnected (${d.reason || d.code}); reconnecting\n`);
        announced = true;
      } else if (d.error) {
        process.stderr.write(`parley: ${formatError(d.error)}\n`);
        void session.close().then(() => resolve(1));
      }
    });
    client.on('connected', () => {
      announced = false;
      process.stderr.write('parley: connected\n');
    });
    process.once('SIGINT', () => {
      void session.close().then(() => resolve(0));
    });
  });
}
