/**
 * State and commands of `parley chat`: the chat list, the open chat, and what each
 * command does. Output goes through `print`, so the terminal handling stays in the command.
 * Messages are end-to-end encrypted through SecureMessaging; the open chat's other members
 * are presence-subscribed (the prompt shows "online" or "last seen" for a direct chat);
 * typing in the open chat is shown once per start, and the draft being typed is announced
 * to the other members.
 */
import {
  type ChatInfo,
  ChatKind,
  type DecryptFailure,
  type KeyValueStore,
  type LastSeenPrivacy,
  MAX_PRESENCE_SUBSCRIPTIONS,
  MemoryKeyValueStore,
  type ParleyClient,
  ParleyError,
  type PresenceInfo,
  type ReceivedChatUpdate,
  Role,
  type SecureMessage,
  type SecureMessaging,
  systemTimers,
  type Timers,
  TypingNotifier,
  TypingTracker,
} from '@parley/sdk';
import { chatHelp } from './chat-commands.js';
import { ChatMessages } from './chat-messages.js';
import { runModeration } from './chat-moderation.js';
import { runMuteCommand } from './chat-mutes.js';
import { safetyNumberLines } from './chat-safety.js';
import type { Contacts } from './contacts.js';
import { directChatWith, resolvePhones } from './directory.js';
import { CliError } from './errors.js';
import {
  chatListLine,
  chatUpdateLine,
  decryptFailedLine,
  presenceLabel,
  privacyLine,
  securityChangedLine,
  typingLine,
} from './format.js';
import { uploadIconFile } from './group-icon.js';
import { MessageArchive } from './message-archive.js';
import { runProfileCommand } from './profile-settings.js';
import { forTerminal } from './text.js';

const PRIVACY_SETTINGS: readonly string[] = ['everyone', 'contacts', 'nobody'];

export interface ChatRoomOptions {
  /** The prompt changed by itself (someone went online or offline): redraw it. */
  promptChanged?: () => void;
  /** Clock and timers for typing indicators and "last seen" (tests); default the system's. */
  timers?: Timers;
  /** Where decrypted messages are kept across runs (the profile's history store); default memory. */
  history?: KeyValueStore;
  /**
   * Where /save keeps a file's encrypted bytes until it is saved, so a cut-off /save resumes
   * (the profile's downloads directory); default: nothing is kept.
   */
  downloads?: string;
}

export class ChatRoom {
  private chats: ChatInfo[] = [];
  private open: ChatInfo | undefined;
  /** Presence of the open chat's other members, by user id. */
  private presence = new Map<string, PresenceInfo>();
  private readonly timers: Timers;
  private readonly typing: TypingTracker;
  private readonly notifier: TypingNotifier;
  private readonly detach: () => void;
  private readonly messages: ChatMessages;
  private readonly client: ParleyClient;

  constructor(
    private readonly secure: SecureMessaging,
    private readonly contacts: Contacts,
    private readonly print: (line: string) => void,
    private readonly options: ChatRoomOptions = {},
  ) {
    const client = secure.client;
    this.client = client;
    this.timers = options.timers ?? systemTimers;
    this.typing = new TypingTracker(this.timers);
    const offTyping = this.typing.attach(client);
    const offStart = this.typing.on('start', (chatId, userId) => {
      // Only the open chat: other chats' typing would be noise.
      if (this.open?.id === chatId)
        this.print(typingLine(this.contacts.chatName(this.open), this.contacts.userName(userId)));
    });
    const offPresence = client.on('presence', (p) => this.onPresence(p));
    this.notifier = new TypingNotifier({
      timers: this.timers,
      send: (chatId, state) => client.typing(chatId, state),
      onError: () => {}, // best effort: a lost indicator is not worth a line
    });
    this.messages = new ChatMessages(
      secure,
      contacts,
      {
        open: () => this.open,
        chat: (chatId) => this.chatById(chatId),
        numbered: (n) => (Number.isInteger(n) && n >= 1 ? this.chats[n - 1] : undefined),
      },
      print,
      new MessageArchive(options.history ?? new MemoryKeyValueStore()),
      () => this.timers.now(),
      { ...(options.downloads !== undefined && { downloads: options.downloads }) },
    );
    this.detach = () => {
      offTyping();
      offStart();
      offPresence();
      this.messages.dispose();
    };
  }

  /** The prompt: the open chat's name, and for a direct chat whether the other is online. */
  prompt(): string {
    if (!this.open) return '> ';
    const status = this.status();
    return `${forTerminal(this.contacts.chatName(this.open))}${status ? ` (${status})` : ''}> `;
  }

  /** The line being typed changed (every keystroke): announces typing to the open chat. */
  draftChanged(draft: string): void {
    const trimmed = draft.trimStart();
    const command = trimmed.startsWith('/') && !trimmed.startsWith('//');
    if (!this.open || trimmed === '' || command) this.notifier.stop();
    else this.notifier.keystroke(this.open.id);
  }

  /** A line was entered: whatever was being typed is done. */
  lineEntered(): void {
    this.notifier.stop();
  }

  /** Stops timers and listeners (the program is ending). */
  dispose(): void {
    this.notifier.dispose();
    this.typing.dispose();
    this.detach();
  }

  async refresh(): Promise<void> {
    // Most recent activity first (the server's order; sorted again in case it is not).
    const activity = (c: ChatInfo) => c.lastMessage?.serverTime ?? c.createdAt;
    this.chats = (await this.client.listChats()).sort((a, b) => activity(b) - activity(a));
    if (this.open) this.open = this.chats.find((c) => c.id === this.open?.id);
  }

  /** Shows a decrypted incoming message (marked read when its chat is open). */
  onMessage(m: SecureMessage): Promise<void> {
    return this.messages.onMessage(m);
  }

  /** A message could not be decrypted: says so, and whether it was asked for again. */
  async onDecryptFailed(f: DecryptFailure): Promise<void> {
    const chat = await this.chatById(f.chatId);
    const group = chat?.kind === ChatKind.GROUP ? this.contacts.chatName(chat) : undefined;
    this.print(decryptFailedLine(f.seq, this.contacts.userName(f.senderUserId), group, f.retrying));
  }

  /** A contact's device keys changed: their safety number is new. */
  onSecurityCodeChanged(userId: string): void {
    this.print(securityChangedLine(this.contacts.userName(userId), this.contacts.handleOf(userId)));
  }

  async onChatUpdate(u: ReceivedChatUpdate): Promise<void> {
    const chat = await this.chatById(u.chatId, true);
    const name = chat ? this.contacts.chatName(chat) : u.chatId;
    this.print(chatUpdateLine(name, (id) => this.contacts.userName(id), u));
  }

  /** Sends a line to the open chat and shows it with its ✓. */
  sendText(text: string): Promise<void> {
    return this.messages.sendText(text);
  }

  async run(name: string, args: string[]): Promise<void> {
    switch (name) {
      case 'chats':
        return this.listChats();
      case 'reply':
      case 'edit':
      case 'delete':
      case 'react':
      case 'forward':
      case 'save':
        return this.messages.run(name, args);
      case 'file':
        return this.messages.sendFile(args[0]!);
      case 'safety':
        for (const line of await safetyNumberLines(this.secure, this.contacts, args[0], this.open))
          this.print(line);
        return;
      case 'promote':
      case 'demote': {
        const chat = this.requireOpen();
        const [id] = await resolvePhones(this.client, this.contacts, args);
        this.open = await this.client.setRole(chat.id, id!, name === 'promote' ? 'admin' : 'member');
        const role = this.open.members.find((m) => m.userId === id)?.role;
        this.print(`${this.contacts.userName(id!)} is now ${role === Role.ADMIN ? 'an admin' : 'a member'}.`);
        return;
      }
      case 'invite': {
        const chat = this.requireOpen();
        if (args[0] === undefined) {
          const { code } = await this.client.createInvite(chat.id);
          this.print(`Invite code for ${forTerminal(this.contacts.chatName(chat))}: ${code}`);
          this.print(`Others join with: /join ${code}  (a new /invite replaces it)`);
        } else if (args[0].toLowerCase() === 'revoke') {
          await this.client.revokeInvite(chat.id);
          this.print('Invite code revoked.');
        } else throw new CliError('usage: /invite [revoke]');
        return;
      }
      case 'join':
        return this.select(await this.client.joinByInvite(args[0]!));
      case 'pin': {
        const chat = this.requireOpen();
        const seq = Number(args[0]);
        if (!Number.isSafeInteger(seq) || seq < 1) throw new CliError('usage: /pin SEQ [24h|7d|30d|off]');
        const how = (args[1] ?? '7d').toLowerCase();
        if (how === 'off') {
          this.open = await this.client.unpin(chat.id, seq);
          this.print(`Unpinned #${seq}.`);
          return;
        }
        if (how !== '24h' && how !== '7d' && how !== '30d')
          throw new CliError('usage: /pin SEQ [24h|7d|30d|off]');
        this.open = await this.client.pin(chat.id, seq, how);
        const until = this.open.pins.find((p) => p.seq === seq)?.expiresAt;
        this.print(`Pinned #${seq}${until ? ` until ${new Date(until).toLocaleString()}` : ''}.`);
        return;
      }
      case 'timer': {
        const chat = this.requireOpen();
        const timers: Record<string, 0 | 86_400 | 604_800 | 7_776_000> = {
          off: 0,
          '24h': 86_400,
          '7d': 604_800,
          '90d': 7_776_000,
        };
        const wanted = args[0]?.toLowerCase();
        if (wanted !== undefined) {
          const seconds = timers[wanted];
          if (seconds === undefined) throw new CliError('usage: /timer [off|24h|7d|90d]');
          this.open = await this.client.setDisappearing(chat.id, seconds);
        }
        const current = Object.entries(timers).find(
          ([, s]) => s === (this.open?.disappearingSeconds ?? 0),
        )?.[0];
        this.print(
          current && current !== 'off'
            ? `New messages disappear after ${current}.`
            : 'Disappearing messages are off.',
        );
        return;
      }
      case 'once':
        return this.messages.sendText(args[0]!, undefined, { viewOnce: true });
      case 'readreceipts': {
        const setting = args[0]?.toLowerCase();
        if (setting !== undefined && setting !== 'on' && setting !== 'off') {
          throw new CliError('usage: /readreceipts [on|off]');
        }
        const on =
          setting === undefined
            ? await this.client.readReceipts()
            : await this.client.setReadReceipts(setting === 'on');
        this.print(
          on
            ? 'Read receipts are on: others see when you read their messages, and you see theirs.'
            : "Read receipts are off: others don't see when you read, and you don't see their reads (✓✓ at most).",
        );
        return;
      }
      case 'open':
        return await this.openChat(args[0]!);
      case 'new':
        return this.select(await directChatWith(this.client, this.contacts, args[0]!, this.chats));
      case 'group': {
        const [groupName, ...phones] = args;
        const ids = await resolvePhones(this.client, this.contacts, phones);
        const chat = await this.client.createChat({
          kind: ChatKind.GROUP,
          memberUserIds: ids,
          name: groupName,
        });
        return this.select(chat);
      }
      case 'add': {
        const chat = this.requireOpen();
        const ids = await resolvePhones(this.client, this.contacts, args);
        this.open = await this.client.addMembers(chat.id, ids);
        await this.watchPresence();
        return;
      }
      case 'remove': {
        const chat = this.requireOpen();
        const [id] = await resolvePhones(this.client, this.contacts, args);
        this.open = await this.client.removeMember(chat.id, id!);
        await this.watchPresence();
        return;
      }
      case 'leave': {
        const chat = this.requireOpen();
        await this.client.leaveChat(chat.id);
        this.print(`Left ${forTerminal(this.contacts.chatName(chat))}.`);
        this.notifier.stop();
        this.open = undefined;
        await this.watchPresence();
        await this.refresh();
        return;
      }
      case 'history':
        return this.messages.showHistory(args[0] === undefined ? 20 : Number(args[0]));
      case 'privacy':
        return this.privacy(args[0]);
      case 'profile':
        for (const line of await runProfileCommand(this.secure, args)) this.print(line);
        return;
      case 'info':
        for (const line of await this.info()) this.print(line);
        return;
      case 'describe': {
        const chat = this.requireOpen();
        this.open = await this.client.updateChat(chat.id, { description: args[0] === '-' ? '' : args[0]! });
        this.print(`Description of ${forTerminal(this.contacts.chatName(this.open))} set.`);
        return;
      }
      case 'icon': {
        const chat = this.requireOpen();
        const iconMediaId =
          args[0]!.toLowerCase() === 'off' ? '' : await uploadIconFile(this.client, args[0]!);
        this.open = await this.client.updateChat(chat.id, { iconMediaId });
        this.print(iconMediaId ? 'Group icon set.' : 'Group icon removed.');
        return;
      }
      case 'block':
      case 'unblock':
      case 'blocked':
      case 'report':
        return runModeration(
          {
            client: this.client,
            contacts: this.contacts,
            print: this.print,
            open: () => this.open,
            recentFromOthers: (n) => this.messages.recentFromOthers(n),
            blocksSettled: () => this.secure.blocksSettled(),
          },
          name,
          args,
        );
      case 'mute':
      case 'unmute':
      case 'dnd':
        return runMuteCommand(
          {
            client: this.client,
            print: this.print,
            now: () => this.timers.now(),
            open: () => {
              const chat = this.requireOpen();
              return { id: chat.id, name: forTerminal(this.contacts.chatName(chat)) };
            },
          },
          name,
          args,
        );
      case 'help':
        this.print(chatHelp());
        return;
    }
  }

  /** `/info`: the open chat's members by name (with role), description and icon. */
  private async info(): Promise<string[]> {
    const chat = await this.client.getChat(this.requireOpen().id);
    this.open = chat;
    const lines = [
      `${forTerminal(this.contacts.chatName(chat))} (${chat.kind === ChatKind.GROUP ? 'group' : 'direct chat'})`,
    ];
    if (chat.kind === ChatKind.GROUP) {
      if (chat.description) lines.push(`Description: ${forTerminal(chat.description)}`);
      if (chat.iconMediaId) lines.push(`Icon: media ${chat.iconMediaId}`);
    }
    lines.push(`Members (${chat.members.length}):`);
    for (const m of chat.members) {
      const role = m.role === Role.CREATOR ? ' (creator)' : m.role === Role.ADMIN ? ' (admin)' : '';
      const phone = this.contacts.phoneOf(m.userId);
      const name = this.contacts.userName(m.userId);
      const about = (await this.secure.profile(m.userId))?.about;
      lines.push(
        `  ${forTerminal(name)}${phone && phone !== name ? ` ${phone}` : ''}${role}${about ? ` — ${forTerminal(about)}` : ''}`,
      );
    }
    return lines;
  }

  private requireOpen(): ChatInfo {
    if (!this.open) throw new CliError('no chat is open');
    return this.open;
  }

  private async listChats(): Promise<void> {
    await this.refresh();
    if (this.chats.length === 0) {
      this.print('No chats yet: /new +PHONE or /group NAME +PHONE...');
      return;
    }
    this.chats.forEach((c, i) => {
      this.print(
        chatListLine(i + 1, this.contacts.chatName(c), c, c.id === this.open?.id, this.timers.now()),
      );
    });
  }

  private async openChat(which: string): Promise<void> {
    const n = Number(which);
    const chat = Number.isInteger(n) && n >= 1 ? this.chats[n - 1] : await this.chatById(which, true);
    if (!chat) throw new CliError(`no chat ${which}: /chats lists them`);
    return this.select(chat);
  }

  private async select(chat: ChatInfo): Promise<void> {
    if (!this.chats.some((c) => c.id === chat.id)) this.chats.push(chat);
    if (this.open?.id !== chat.id) this.notifier.stop();
    this.open = chat;
    await this.watchPresence();
    const status = this.status();
    this.print(`Opened ${forTerminal(this.contacts.chatName(chat))}${status ? ` (${status})` : ''}.`);
    await this.messages.opened(chat);
  }

  private async privacy(setting: string | undefined): Promise<void> {
    if (setting !== undefined && !PRIVACY_SETTINGS.includes(setting.toLowerCase())) {
      throw new CliError('usage: /privacy [everyone|contacts|nobody]');
    }
    const now =
      setting === undefined
        ? await this.client.lastSeenPrivacy()
        : await this.client.setLastSeenPrivacy(setting.toLowerCase() as LastSeenPrivacy);
    this.print(privacyLine(now));
    // Whether we see others' last seen may have changed with ours (nobody sees nobody's).
    if (setting !== undefined) await this.watchPresence();
  }

  /** The other members of the open chat (at most the subscription limit). */
  private others(): string[] {
    const self = this.client.credentials.userId;
    if (!this.open) return [];
    return this.open.members
      .map((m) => m.userId)
      .filter((id) => id !== self)
      .slice(0, MAX_PRESENCE_SUBSCRIPTIONS);
  }

  /** Subscribes to the open chat's other members (none when no chat is open). */
  private async watchPresence(): Promise<void> {
    const userIds = this.others();
    this.presence = new Map();
    try {
      for (const p of await this.client.subscribePresence(userIds)) this.presence.set(p.userId, p);
    } catch (err) {
      // While disconnected, the client subscribes by itself once it is back.
      if (!(err instanceof ParleyError && err.code === 'UNAVAILABLE')) throw err;
    }
  }

  private onPresence(p: PresenceInfo): void {
    if (!this.others().includes(p.userId)) return;
    const before = this.status();
    this.presence.set(p.userId, p);
    if (this.status() !== before) this.options.promptChanged?.();
  }

  /** "online" / "last seen ..." for a direct chat, "N online" for a group, or "". */
  private status(): string {
    if (!this.open) return '';
    const others = this.others();
    if (this.open.kind === ChatKind.DIRECT) {
      const other = others[0];
      return other === undefined ? '' : presenceLabel(this.presence.get(other), this.timers.now());
    }
    const online = others.filter((id) => this.presence.get(id)?.online).length;
    return online > 0 ? `${online} online` : '';
  }

  /** A chat by id from the list, fetched (and remembered) when unknown or `reload`. */
  private async chatById(chatId: string, reload = false): Promise<ChatInfo | undefined> {
    const known = this.chats.find((c) => c.id === chatId);
    if (known && !reload) return known;
    try {
      const chat = await this.client.getChat(chatId);
      // Replaced in place, so the numbers /chats shows stay the same.
      this.chats = known ? this.chats.map((c) => (c.id === chatId ? chat : c)) : [...this.chats, chat];
      if (this.open?.id === chatId) this.open = chat;
      return chat;
    } catch {
      return known; // e.g. we were removed: keep showing the old name
    }
  }
}
