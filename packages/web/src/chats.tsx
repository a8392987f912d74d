/**
 * The chat list: the user's chats from the node, refreshed when something arrives, and "new
 * chat" by phone number. Up and Down (Home, End) move through the list; Enter or a click
 * opens a chat.
 */
import { type ChatInfo, ChatKind, isMuted } from '@parley/sdk/browser';
import { useEffect, useState } from 'preact/hooks';
import { Avatar } from './avatar.js';
import { STATUS_TEXT, useConnection } from './connection.js';
import type { WebDevice } from './device.js';
import { describeError } from './errors.js';
import { chatTitle, sortChats, timeLabel } from './format.js';
import { markInteractive } from './interactive.js';
import { directChatWith } from './new-chat.js';
import { NewGroup } from './new-group.js';
import { notifyPermission } from './notify.js';
import { PhoneInput } from './phone-input.js';
import { ProfileName } from './profile-name.js';

/** The notifications switch: on or off in this app, and what to tell the user about them. */
export interface NotificationsControl {
  on: boolean;
  note: string;
  turn: (on: boolean) => void;
}

export function Chats(props: {
  device: WebDevice;
  notifications: NotificationsControl;
  onOpen: (chat: ChatInfo) => void;
  onSignOut: () => void;
  onSignedOut: () => void;
}) {
  const { device, notifications, onOpen, onSignOut, onSignedOut } = props;
  const c = device.client;
  const status = useConnection(device);
  const conversations = device.conversations;
  // The list as last seen shows at once; the node's answer replaces it.
  const [chats, setChats] = useState<ChatInfo[] | undefined>(conversations.chats);
  // Names come from profiles, which may arrive after the list: draw again when one does.
  const [, setVersion] = useState(0);
  useEffect(() => conversations.subscribe(() => setVersion((v) => v + 1)), [conversations]);

  useEffect(markInteractive, []);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        c.listChats().then(
          (list) => {
            const sorted = sortChats(list);
            conversations.listed(sorted);
            setChats(sorted);
          },
          () => {}, // the socket dropped meanwhile: the next connect refreshes
        );
      }, 50);
    };
    const stops = [c.on('connected', refresh), c.on('chatUpdate', refresh), c.on('message', refresh)];
    if (c.connected) refresh();
    return () => {
      clearTimeout(timer);
      for (const stop of stops) stop();
    };
  }, [c, conversations]);

  const canNotify = notifyPermission() !== 'unsupported';

  return (
    <div class="shell">
      <header class="bar">
        <h1>Chats</h1>
        {canNotify && (
          <button type="button" class="link" onClick={() => notifications.turn(!notifications.on)}>
            {notifications.on ? 'Turn off notifications' : 'Turn on notifications'}
          </button>
        )}
        <button type="button" class="link" onClick={onSignOut}>
          Log out
        </button>
      </header>
      {notifications.note && (
        <p class="note" aria-live="polite">
          {notifications.note}
        </p>
      )}
      <p role="status" class={`status ${status}`}>
        {STATUS_TEXT[status]}
      </p>
      {status === 'revoked' && (
        <button type="button" onClick={onSignedOut}>
          Register again
        </button>
      )}
      <ProfileName device={device} />
      <main>
        <NewChat device={device} chats={chats} onOpen={onOpen} />
        <NewGroup device={device} onOpen={onOpen} />
        {chats === undefined ? null : chats.length === 0 ? (
          <p class="empty">No chats yet. When someone starts a chat with you, it shows here.</p>
        ) : (
          <ChatList chats={chats} me={c.credentials.userId} device={device} onOpen={onOpen} />
        )}
      </main>
    </div>
  );
}

/** "New chat": the direct chat with a phone number's owner (the existing one, or a new one). */
function NewChat(props: {
  device: WebDevice;
  chats: ChatInfo[] | undefined;
  onOpen: (chat: ChatInfo) => void;
}) {
  const [phone, setPhone] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const start = (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    directChatWith(props.device.client, props.device.contacts, phone, props.chats)
      .then(props.onOpen, (err) => setError(describeError(err)))
      .finally(() => setBusy(false));
  };
  return (
    <form class="new-chat" onSubmit={start}>
      <label for="new-chat-phone">New chat with (phone number)</label>
      <div class="row">
        <PhoneInput id="new-chat-phone" value={phone} onChange={setPhone} autocomplete="off" />
        <button type="submit" disabled={busy}>
          Start chat
        </button>
      </div>
      <p role="alert" class="error">
        {error}
      </p>
    </form>
  );
}

function ChatList(props: {
  chats: ChatInfo[];
  me: string;
  device: WebDevice;
  onOpen: (chat: ChatInfo) => void;
}) {
  const { chats, me, device, onOpen } = props;
  const name = (id: string) => device.contacts.name(id);
  const onKeyDown = (e: KeyboardEvent) => {
    const items = [...(e.currentTarget as HTMLElement).querySelectorAll<HTMLElement>('li')];
    const at = items.indexOf(document.activeElement as HTMLElement);
    const to =
      e.key === 'ArrowDown'
        ? Math.min(at + 1, items.length - 1)
        : e.key === 'ArrowUp'
          ? Math.max(at - 1, 0)
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? items.length - 1
              : -1;
    if (to < 0) return;
    e.preventDefault();
    items[to]?.focus();
  };
  return (
    <ul class="chats" aria-label="Chats" onKeyDown={onKeyDown}>
      {chats.map((chat, i) => (
        <li
          key={chat.id}
          tabIndex={i === 0 ? 0 : -1}
          data-chat-id={chat.id}
          onClick={() => onOpen(chat)}
          onKeyDown={(e) => {
            if (e.key !== 'Enter' && e.key !== ' ') return;
            e.preventDefault();
            onOpen(chat);
          }}
        >
          {chat.kind === ChatKind.DIRECT && (
            <Avatar
              device={device}
              userId={chat.members.find((m) => m.userId !== me)?.userId ?? me}
              name={chatTitle(chat, me, name)}
            />
          )}
          <span class="title">{chatTitle(chat, me, name)}</span>
          <span class="meta">
            {chat.kind === ChatKind.GROUP ? `Group, ${chat.members.length} members` : 'Direct chat'}
            {chat.lastMessage && ` · ${timeLabel(chat.lastMessage.serverTime)}`}
            {isMuted(chat.mutedUntil, Date.now()) && ' · Muted'}
          </span>
          <LastLine device={device} chatId={chat.id} />
          {chat.unreadCount > 0 && (
            <span class="unread">
              {chat.unreadCount}
              <span class="visually-hidden"> unread</span>
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}

/** The newest message this device has of a chat, in one short line. */
function LastLine({ device, chatId }: { device: WebDevice; chatId: string }) {
  const last = device.conversations.of(chatId).at(-1);
  if (!last) return null;
  const text = last.deleted
    ? 'This message was deleted.'
    : last.text || (last.file ? `File: ${last.file.name || 'file'}` : '');
  return <span class="last">{text}</span>;
}
