/**
 * `parley listen`: prints every incoming message as one JSON line on stdout until SIGINT.
 * Each message is acked only after its line was written (the SDK waits for the listener).
 */
import { COMMON_HELP, parseCommand } from '../args.js';
import { formatError } from '../errors.js';
import { chatUpdateJson, messageJson } from '../format.js';
import { openSession } from '../session.js';

const HELP = `Usage: parley listen [--profile NAME]

Connects and prints each incoming message as a JSON line until interrupted (Ctrl-C):
  {"chatId":"c_…","seq":12,"sender":"u_…","text":"hello","serverTime":1768471200000}
Chat changes print as {"type":"chatUpdate","chatId":…,"kind":"MEMBERS_ADDED",…}.
Status goes to stderr. A device has one connection: running another command with the same
profile at the same time disconnects this one. Messages are plain UTF-8 text for now
(end-to-end encryption arrives in the SDK later).

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
  const { client } = await openSession(values, env, { receive: true });
  client.on('message', (m) => writeLine(messageJson(m)));
  client.on('chatUpdate', (u) => writeLine(chatUpdateJson(u)));
  client.on('error', (err) => {
    process.stderr.write(`parley: ${formatError(err)}\n`);
  });
  process.stderr.write('Listening (Ctrl-C to stop)\n');
  return new Promise<number>((resolve) => {
    let announced = false; // one notice per outage, not one per failed attempt
    client.on('disconnected', (d) => {
      if (d.willReconnect) {
        if (!announced) process.stderr.write(`parley: disconnected (${d.reason || d.code}); reconnecting\n`);
        announced = true;
      } else if (d.error) {
        process.stderr.write(`parley: ${formatError(d.error)}\n`);
        resolve(1);
      }
    });
    client.on('connected', () => {
      announced = false;
      process.stderr.write('parley: connected\n');
    });
    process.once('SIGINT', () => {
      void client.close().then(() => resolve(0));
    });
  });
}
