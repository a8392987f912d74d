/**
 * State and commands of `parley chat`: the chat list, the open chat, and what each
 * command does. Output goes through `print`, so the terminal handling stays in the command.
 */
import {
  type ChatInfo,
  ChatKind,
  type ParleyClient,
  type ReceivedChatUpdate,
  type ReceivedMessage,
} from '@parley/sdk';
import { chatHelp } from './chat-commands.js';
import type { Contacts } from './contacts.js';
import { directChatWith, resolvePhones } from './directory.js';
import { CliError } from './errors.js';
import { chatUpdateLine, messageLine } from './format.js';
import { encodeText, forTerminal } from './text.js';

export class ChatRoom {
  private chats: ChatInfo[] = [];
  private open: ChatInfo | undefined;

  constructor(
    private readonly client: ParleyClient,
    private readonly contacts: Contacts,
    private readonly print: (line: string) => void,
  ) {}

  /** The prompt: the open chat's name. */
  prompt(): string {
    return this.open ? `${forTerminal(this.contacts.chatName(this.open))}> ` : '> ';
  }

  async refresh(): Promise<void> {
    this.chats = await this.client.listChats();
    if (this.open) this.open = this.chats.find((c) => c.id === this.open?.id);
  }

  async onMessage(m: ReceivedMessage): Promise<void> {
    const chat = await this.chatById(m.chatId);
    this.print(
      messageLine(chat ? this.contacts.chatName(chat) : m.chatId, this.contacts.userName(m.senderUserId), m),
    );
  }

  async onChatUpdate(u: ReceivedChatUpdate): Promise<void> {
    const chat = await this.chatById(u.chatId, true);
    const name = chat ? this.contacts.chatName(chat) : u.chatId;
    this.print(chatUpdateLine(name, (id) => this.contacts.userName(id), u));
  }

  async sendText(text: string): Promise<void> {
    if (!this.open) throw new CliError('no chat is open: /chats, /open N or /new +PHONE');
    await this.client.send(this.open.id, encodeText(text));
  }

  async run(name: string, args: string[]): Promise<void> {
    switch (name) {
      case 'chats':
        return this.listChats();
      case 'open':
        return this.openChat(args[0]!);
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
        return;
      }
      case 'remove': {
        const chat = this.requireOpen();
        const [id] = await resolvePhones(this.client, this.contacts, args);
        this.open = await this.client.removeMember(chat.id, id!);
        return;
      }
      case 'leave': {
        const chat = this.requireOpen();
        await this.client.leaveChat(chat.id);
        this.print(`Left ${forTerminal(this.contacts.chatName(chat))}.`);
        this.open = undefined;
        await this.refresh();
        return;
      }
      case 'history':
        return this.showHistory(args[0] === undefined ? 20 : Number(args[0]));
      case 'help':
        this.print(chatHelp());
        return;
    }
  }

  private requireOpen(): ChatInfo {
    if (!this.open) throw new CliError('no chat is open');
    return this.open;
  }

  private listChats(): void {
    if (this.chats.length === 0) {
      this.print('No chats yet: /new +PHONE or /group NAME +PHONE...');
      return;
    }
    this.chats.forEach((c, i) => {
      const kind = c.kind === ChatKind.GROUP ? `group, ${c.members.length} members` : 'direct';
      const mark = c.id === this.open?.id ? '*' : ' ';
      this.print(
        `${mark}${String(i + 1).padStart(3)}. ${forTerminal(this.contacts.chatName(c))} (${kind}) ${c.id}`,
      );
    });
  }

  private async openChat(which: string): Promise<void> {
    const n = Number(which);
    const chat = Number.isInteger(n) && n >= 1 ? this.chats[n - 1] : await this.chatById(which, true);
    if (!chat) throw new CliError(`no chat ${which}: /chats lists them`);
    this.select(chat);
  }

  private select(chat: ChatInfo): void {
    if (!this.chats.some((c) => c.id === chat.id)) this.chats.push(chat);
    this.open = chat;
    this.print(`Opened ${forTerminal(this.contacts.chatName(chat))}.`);
  }

  private async showHistory(limit: number): Promise<void> {
    const chat = this.requireOpen();
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError('N must be 1..100');
    const page = await this.client.history(chat.id, { limit });
    const name = this.contacts.chatName(chat);
    for (const m of page.messages) {
      if ('payload' in m) this.print(messageLine(name, this.contacts.userName(m.senderUserId), m));
      else this.print(chatUpdateLine(name, (id) => this.contacts.userName(id), m));
    }
    if (page.messages.length === 0) this.print('No messages.');
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
