/**
 * The chat list (a placeholder for the chat screens to come): the user's chats from the node
 * over the WebSocket, opened with a one-use socket ticket (the token never goes in a URL),
 * refreshed when something arrives. Up and Down (Home, End) move through the list.
 */
import {
  type ChatInfo,
  ChatKind,
  type Credentials,
  ParleyClient,
  ParleyError,
  removeDevice,
  ticketWebSocketFactory,
} from '@parley/sdk/browser';
import { useEffect, useRef, useState } from 'preact/hooks';
import { chatTitle, sortChats, timeLabel } from './format.js';

type Status = 'connecting' | 'online' | 'offline' | 'revoked';

const STATUS_TEXT: Record<Status, string> = {
  connecting: 'Connecting…',
  online: 'Connected',
  offline: 'Offline, reconnecting…',
  revoked: 'This browser was signed out.',
};

export function Chats(props: { credentials: Credentials; onSignedOut: () => void }) {
  const { credentials, onSignedOut } = props;
  const [status, setStatus] = useState<Status>('connecting');
  const [chats, setChats] = useState<ChatInfo[] | undefined>();
  const client = useRef<ParleyClient | undefined>(undefined);

  useEffect(() => {
    const c = new ParleyClient({
      credentials,
      webSocketFactory: ticketWebSocketFactory(credentials.serverUrl),
    });
    client.current = c;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const refresh = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        c.listChats().then(
          (list) => setChats(sortChats(list)),
          () => {}, // the socket dropped meanwhile: the next connect refreshes
        );
      }, 50);
    };
    c.on('connected', () => {
      setStatus('online');
      refresh();
    });
    c.on('disconnected', (info) => {
      const revoked = info.error instanceof ParleyError && info.error.code === 'UNAUTHENTICATED';
      setStatus(revoked ? 'revoked' : info.willReconnect ? 'offline' : 'revoked');
    });
    c.on('chatUpdate', refresh);
    c.on('message', refresh);
    c.connect().catch(() => {});
    return () => {
      clearTimeout(timer);
      void c.close();
    };
  }, [credentials]);

  async function signOut() {
    await client.current?.close();
    // The device's token is revoked on the node too; if that fails it is only forgotten here.
    await removeDevice(credentials, credentials.deviceId).catch(() => {});
    onSignedOut();
  }

  return (
    <div class="shell">
      <header class="bar">
        <h1>Chats</h1>
        <button type="button" class="link" onClick={() => void signOut()}>
          Log out
        </button>
      </header>
      <p role="status" class={`status ${status}`}>
        {STATUS_TEXT[status]}
      </p>
      {status === 'revoked' && (
        <button type="button" onClick={onSignedOut}>
          Register again
        </button>
      )}
      <main>
        {chats === undefined ? null : chats.length === 0 ? (
          <p class="empty">No chats yet. When someone starts a chat with you, it shows here.</p>
        ) : (
          <ChatList chats={chats} me={credentials.userId} />
        )}
      </main>
    </div>
  );
}

function ChatList({ chats, me }: { chats: ChatInfo[]; me: string }) {
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
        <li key={chat.id} tabIndex={i === 0 ? 0 : -1} data-chat-id={chat.id}>
          <span class="title">{chatTitle(chat, me)}</span>
          <span class="meta">
            {chat.kind === ChatKind.GROUP ? `Group, ${chat.members.length} members` : 'Direct chat'}
            {chat.lastMessage && ` · ${timeLabel(chat.lastMessage.serverTime)}`}
          </span>
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
