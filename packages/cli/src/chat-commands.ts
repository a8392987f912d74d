/**
 * The interactive chat's input language: plain lines are messages, `/command args` are
 * commands ("//text" sends a line starting with "/"). Arguments may be "quoted".
 */

export interface ChatCommandSpec {
  usage: string;
  help: string;
  min: number;
  max: number;
  /** The last argument is the rest of the line as typed (message text), after this many words. */
  restAfter?: number;
}

export const CHAT_COMMANDS: Record<string, ChatCommandSpec> = {
  chats: { usage: '/chats', help: 'list your chats, numbered', min: 0, max: 0 },
  open: { usage: '/open N|CHAT_ID', help: 'open a chat: plain lines then go to it', min: 1, max: 1 },
  new: {
    usage: '/new +PHONE',
    help: 'open the direct chat with a phone number (created if needed)',
    min: 1,
    max: 1,
  },
  group: { usage: '/group NAME +PHONE...', help: 'create a group with these members', min: 2, max: 1023 },
  add: { usage: '/add +PHONE...', help: 'add people to the open group', min: 1, max: 1023 },
  remove: { usage: '/remove +PHONE', help: 'remove someone from the open group', min: 1, max: 1 },
  leave: { usage: '/leave', help: 'leave the open chat', min: 0, max: 0 },
  history: {
    usage: '/history [N]',
    help: 'show the last N messages of the open chat kept on this device (default 20)',
    min: 0,
    max: 1,
  },
  reply: {
    usage: '/reply SEQ TEXT',
    help: 'reply to message SEQ of the open chat',
    min: 2,
    max: 2,
    restAfter: 1,
  },
  edit: {
    usage: '/edit SEQ TEXT',
    help: 'change your message SEQ (within 15 minutes)',
    min: 2,
    max: 2,
    restAfter: 1,
  },
  delete: { usage: '/delete SEQ', help: 'delete message SEQ for everyone', min: 1, max: 1 },
  react: {
    usage: '/react SEQ [EMOJI]',
    help: 'react to message SEQ (no EMOJI: remove your reaction)',
    min: 1,
    max: 2,
  },
  forward: {
    usage: '/forward SEQ N...',
    help: 'forward message SEQ to chats N... (numbers from /chats, at most 5)',
    min: 2,
    max: 6,
  },
  pin: {
    usage: '/pin SEQ [24h|7d|30d|off]',
    help: 'pin message SEQ of the open chat (default 7d; off unpins; at most 3 pinned)',
    min: 1,
    max: 2,
  },
  timer: {
    usage: '/timer [off|24h|7d|90d]',
    help: 'disappearing messages in the open chat (no argument: show the timer)',
    min: 0,
    max: 1,
  },
  file: {
    usage: '/file PATH',
    help: 'send a file (up to 100 MiB), encrypted, to the open chat (photos without their metadata; photos and videos with a thumbnail)',
    min: 1,
    max: 1,
  },
  save: {
    usage: '/save SEQ PATH',
    help: 'decrypt the file of message SEQ into PATH (a new file, or a directory); a cut-off /save resumes when run again',
    min: 2,
    max: 2,
  },
  safety: {
    usage: '/safety [+PHONE|USER_ID]',
    help: 'show your safety number with someone (default: the open direct chat) to compare',
    min: 0,
    max: 1,
  },
  once: {
    usage: '/once TEXT',
    help: 'send a view-once message to the open chat',
    min: 1,
    max: 1,
    restAfter: 0,
  },
  promote: { usage: '/promote +PHONE', help: 'make a member of the open group an admin', min: 1, max: 1 },
  demote: { usage: '/demote +PHONE', help: 'make an admin of the open group a member', min: 1, max: 1 },
  invite: {
    usage: '/invite [revoke]',
    help: "print the open group's invite code (revoke: cancel it)",
    min: 0,
    max: 1,
  },
  join: { usage: '/join CODE', help: 'join a group with an invite code', min: 1, max: 1 },
  readreceipts: {
    usage: '/readreceipts [on|off]',
    help: 'send and see read receipts or not (no argument: show the setting)',
    min: 0,
    max: 1,
  },
  privacy: {
    usage: '/privacy [WHO]',
    help: 'who sees your last seen: everyone, contacts or nobody (no WHO: show it)',
    min: 0,
    max: 1,
  },
  profile: {
    usage: '/profile [name NAME | about TEXT | avatar PATH|off]',
    help: 'show or set your profile (end-to-end encrypted: contacts see your name, not your number)',
    min: 0,
    max: 2,
    restAfter: 1,
  },
  info: {
    usage: '/info',
    help: "show the open chat: members by name, the group's description and icon",
    min: 0,
    max: 0,
  },
  describe: {
    usage: '/describe TEXT',
    help: "set the open group's description (- clears it)",
    min: 1,
    max: 1,
    restAfter: 0,
  },
  icon: {
    usage: '/icon PATH|off',
    help: "set the open group's icon to an image (seen by the server, like the name), or remove it",
    min: 1,
    max: 1,
  },
  block: {
    usage: '/block [+PHONE]',
    help: 'block someone (no PHONE: the other person of the open direct chat)',
    min: 0,
    max: 1,
  },
  unblock: { usage: '/unblock [+PHONE]', help: 'unblock someone', min: 0, max: 1 },
  blocked: { usage: '/blocked', help: 'list the people you blocked', min: 0, max: 0 },
  report: {
    usage: '/report REASON [block] [TEXT]',
    help: 'report the open chat (spam, harassment, scam, inappropriate, impersonation, other) with its last 5 messages from others; "block" also blocks them',
    min: 1,
    max: 2,
    restAfter: 1,
  },
  mute: {
    usage: '/mute [8h|1w|forever]',
    help: 'mute the open chat on all your devices (default 8h; messages arrive without alerts)',
    min: 0,
    max: 1,
  },
  unmute: { usage: '/unmute', help: 'unmute the open chat', min: 0, max: 0 },
  dnd: {
    usage: '/dnd [8h|1w|forever|off]',
    help: 'do not disturb: no alerts from any chat (no argument: show the setting)',
    min: 0,
    max: 1,
  },
  help: { usage: '/help', help: 'show this help', min: 0, max: 0 },
  quit: { usage: '/quit', help: 'leave the program (also Ctrl-D)', min: 0, max: 0 },
};

export type ChatInput =
  | { type: 'empty' }
  | { type: 'text'; text: string }
  | { type: 'command'; name: string; args: string[] }
  | { type: 'error'; message: string };

/** Splits on whitespace; double or single quotes group words ("My group"). */
export function tokenize(input: string): string[] {
  const tokens: string[] = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(input); m !== null; m = re.exec(input)) tokens.push(m[1] ?? m[2] ?? m[3] ?? '');
  return tokens;
}

export function parseChatLine(line: string): ChatInput {
  const trimmed = line.trim();
  if (trimmed === '') return { type: 'empty' };
  if (trimmed.startsWith('//')) return { type: 'text', text: line.trimStart().slice(1) };
  if (!trimmed.startsWith('/')) return { type: 'text', text: line };
  const [first, ...words] = tokenize(trimmed.slice(1));
  const name = (first ?? '').toLowerCase();
  const spec = Object.hasOwn(CHAT_COMMANDS, name) ? CHAT_COMMANDS[name] : undefined;
  if (!spec) return { type: 'error', message: `unknown command /${name}; /help lists them` };
  let args = words;
  if (spec.restAfter !== undefined) {
    // The text as typed (quotes and spacing kept) after the command and its leading words.
    const re = new RegExp(`^/\\S+${'\\s+\\S+'.repeat(spec.restAfter)}\\s+`);
    const head = re.exec(trimmed);
    args = head ? [...words.slice(0, spec.restAfter), trimmed.slice(head[0].length)] : words;
  }
  if (args.length < spec.min || args.length > spec.max)
    return { type: 'error', message: `usage: ${spec.usage}` };
  return { type: 'command', name, args };
}

export function chatHelp(): string {
  const width = Math.max(...Object.values(CHAT_COMMANDS).map((c) => c.usage.length));
  const lines = Object.values(CHAT_COMMANDS).map((c) => `  ${c.usage.padEnd(width)}  ${c.help}`);
  return [
    'Type a line to send it to the open chat; the other members see "typing..." while you type.',
    'The prompt shows whether the other person in a direct chat is online, or when they were',
    'last seen (if they share it). Messages show their number (#42) for /reply, /edit, /delete,',
    '/react and /forward; your own show ✓ (sent), ✓✓ (delivered) and "read" (for a group: by',
    'everyone), with a line like "✓✓ message 42" when that changes. Messages and files are',
    'end-to-end encrypted: the server relays ciphertext only, so /history shows what this device',
    'has read. Compare safety numbers (/safety) to be sure nobody is in between. Commands:',
    ...lines,
  ].join('\n');
}
