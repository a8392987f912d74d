/**
 * `parley chat`: an interactive, end-to-end encrypted terminal chat. Incoming messages print
 * above the prompt as they arrive; lines typed go to the open chat; /commands manage chats
 * (see /help). On a terminal, keystrokes tell the open chat's members that the user is
 * typing, and the prompt is redrawn when the other person of a direct chat goes online or
 * offline. Decrypted messages are kept only in the profile's history file.
 */
import { clearLine, createInterface, cursorTo } from 'node:readline';
import { COMMON_HELP, parseCommand } from '../args.js';
import { chatHelp, parseChatLine } from '../chat-commands.js';
import { ChatRoom } from '../chat-room.js';
import { formatError } from '../errors.js';
import { openSession } from '../session.js';
import { forTerminal } from '../text.js';

const HELP = `Usage: parley chat [--profile NAME]

Interactive chat. Messages show as "[chat] #42 sender: text", with their number for /reply,
/edit, /delete, /react and /forward, and markers for replies, forwards, edits ("(edited)")
and deletes ("[deleted]"); reactions show as a summary line. View-once messages show
"(view once)"; /pin, /timer and /once pin messages, set disappearing messages and send
view-once. Your own messages show ✓ when
the server has them, ✓✓ once delivered and "read" once read (in a group: by every other
member); a line like "✓✓ message 42" follows when that changes. Opening a chat marks it
read, as do new messages in the open chat; /chats shows unread counts, newest first.
People show by the name in their profile once they have shared it with you (it comes inside
their encrypted messages), else by phone number once discovered (/new, /group, /add), else by
user id. /profile sets your own name, about text and avatar; /info lists the open chat's
members; /describe and /icon set a group's description and icon.
In the open chat, "[chat] name is typing..." shows once when someone starts typing, and the
prompt shows "online" or "last seen ..." for the other person of a direct chat ("N online"
in a group). While you type a line (on a terminal), the other members see you typing;
/privacy sets who sees your last seen.
A file shows its kind, size and what its sender's device measured before you save it:
"[📷 photo.jpg, 2.1 MB, 4032×3024, thumbnail 320×240]" ("parley download" saves it from a
script). A /save that was cut off (the chat killed, the connection lost) resumes when run
again, as "parley download" does: the encrypted bytes so far wait in
$PARLEY_HOME/<profile>.downloads until the file is saved.
Messages and files (/file, /save) are end-to-end encrypted: the server only relays
ciphertext, and each message can be decrypted once, on arrival. This device's keys and
sessions are in $PARLEY_HOME/<profile>.keys.db and the messages it has read in
<profile>.history.db (both readable by you only); /history shows them from there, not from
the server. "! security code with ... changed" means a contact's devices changed: compare
safety numbers (/safety) with them. "! could not decrypt message #N" means this device asked
the sender's device to encrypt it again; it shows as #N when it comes (within 7 days).
One command at a time per profile: "parley send" or "listen" with the same profile stops
with KEY_STORE_BUSY while this runs; other commands that open a connection take over the
device's one connection and disconnect this one.

${chatHelp()}

Options:
${COMMON_HELP}
`;

export async function run(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const { values, help } = parseCommand({ help: HELP, options: {} }, argv);
  if (help) {
    process.stdout.write(HELP);
    return 0;
  }
  const session = await openSession(values, env, { receive: true, history: true });
  const { client, secure, contacts } = session;
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  // Lines typed while connecting are buffered from here on, not dropped.
  const lines = rl[Symbol.asyncIterator]();
  const tty = process.stdout.isTTY === true && process.stdin.isTTY === true;
  // Prints above the line being typed, then redraws the prompt and the typed text.
  const print = (line: string) => {
    if (tty) {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
    }
    process.stdout.write(`${line}\n`);
    if (tty) rl.prompt(true);
  };
  const redrawPrompt = () => {
    rl.setPrompt(room.prompt());
    if (tty) {
      clearLine(process.stdout, 0);
      cursorTo(process.stdout, 0);
      rl.prompt(true);
    }
  };
  const room: ChatRoom = new ChatRoom(secure, contacts, print, {
    promptChanged: redrawPrompt,
    ...(session.history && { history: session.history }),
    downloads: session.paths.downloads,
  });
  if (tty) {
    // readline updates rl.line in its own keypress listener, which runs before this one.
    let draft = '';
    process.stdin.on('keypress', () => {
      if (rl.line === draft) return; // cursor moves and the like
      draft = rl.line;
      room.draftChanged(draft);
    });
  }
  secure.on('message', (m) => room.onMessage(m));
  secure.on('decryptFailed', (f) => room.onDecryptFailed(f));
  session.onSecurityCodeChanged((userId) => room.onSecurityCodeChanged(userId));
  secure.on('error', (err) => print(`! ${formatError(err)}`));
  client.on('chatUpdate', (u) => room.onChatUpdate(u));
  client.on('error', (err) => print(`! ${formatError(err)}`));

  try {
    await session.start();
  } catch (err) {
    rl.close();
    room.dispose();
    throw err;
  }
  let exitCode = 0;
  let announced = false; // one notice per outage, not one per failed attempt
  client.on('disconnected', (d) => {
    if (d.willReconnect) {
      if (!announced) print(`! disconnected (${d.reason || d.code}); reconnecting…`);
      announced = true;
    } else if (d.error) {
      print(`! ${formatError(d.error)}`);
      exitCode = 1;
      rl.close();
    }
  });
  client.on('connected', () => {
    announced = false;
    print('! connected');
  });
  await room.refresh();
  const self = client.credentials.userId;
  const handle = contacts.phoneOf(self) ?? self;
  const myName = contacts.profileName(self);
  const me = myName ? `${forTerminal(myName)} (${handle})` : handle;
  print(`Connected as ${me}. /chats to list chats, /help for commands.`);
  if (!myName) print('Set your name with /profile name NAME: others then see it instead of your number.');
  rl.setPrompt(room.prompt());
  rl.prompt();
  for await (const line of { [Symbol.asyncIterator]: () => lines }) {
    room.lineEntered();
    const input = parseChatLine(line);
    try {
      if (input.type === 'error') print(`! ${input.message}`);
      else if (input.type === 'text') await room.sendText(input.text);
      else if (input.type === 'command') {
        if (input.name === 'quit') break;
        await room.run(input.name, input.args);
      }
    } catch (err) {
      print(`! ${formatError(err)}`);
    }
    rl.setPrompt(room.prompt());
    rl.prompt();
  }
  rl.close();
  room.dispose();
  await session.close();
  return exitCode;
}
