/**
 * One chat: its history on this device, new messages live, and a labelled box that sends end
 * to end encrypted. Files come in by the attach button, dropped on the chat or pasted, with
 * upload progress. Each message has actions (reply, react, edit and delete for its sender).
 * The header says who is typing, or whether the other person is online; a banner says when
 * the socket is down. What the chat shows counts as read.
 */
import {
  type ChatInfo,
  ChatKind,
  type PresenceInfo,
  TypingNotifier,
  TypingTracker,
} from '@parley/sdk/browser';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ChatFlags } from './chat-flags.js';
import { Compose, type Draft } from './compose.js';
import { ConnectionBanner, useConnection } from './connection.js';
import type { Conversations, Line } from './conversations.js';
import type { WebDevice } from './device.js';
import { describeError } from './errors.js';
import { chatTitle, timeLabel } from './format.js';
import { MessageItem } from './message-item.js';
import { useChat } from './use-chat.js';

export function ChatView(props: {
  chat: ChatInfo;
  me: string;
  device: WebDevice;
  conversations: Conversations;
  onBack: () => void;
  onInfo?: () => void;
}) {
  const { me, device, conversations, onBack } = props;
  const client = device.client;
  const [chat] = useChat(client, props.chat);
  const [, setVersion] = useState(0);
  const [error, setError] = useState('');
  const [draft, setDraft] = useState<Draft>({ kind: 'new' });
  const [dragging, setDragging] = useState(false);
  const status = useConnection(device);
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => conversations.subscribe(() => setVersion((v) => v + 1)), [conversations]);
  const lines = conversations.of(chat.id);
  // The newest message stays in view.
  useLayoutEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [lines.length]);
  // What is on screen counts as read (the chat list's unread count, the sender's read ticks).
  const lastTheirs = lines.findLast((l) => !l.mine && l.seq !== undefined)?.seq;
  useEffect(() => {
    if (lastTheirs !== undefined && status === 'online') client.markRead(chat.id, lastTheirs).catch(() => {});
  }, [client, chat.id, lastTheirs, status]);
  const others = chat.members.map((m) => m.userId).filter((id) => id !== me);
  const name = (id: string) => device.contacts.name(id);
  const typing = useTyping(device, chat.id);
  const presence = usePresence(device, chat.kind === ChatKind.DIRECT ? others[0] : undefined);

  const report = (err: unknown) => setError(describeError(err));
  const sendFiles = (files: Iterable<File>) => {
    setError('');
    for (const f of files) conversations.sendFile(chat.id, f).catch(report);
  };
  // Files dropped anywhere on the chat are sent to it.
  const shell = useRef<HTMLDivElement>(null);
  const dropped = useRef(sendFiles);
  dropped.current = sendFiles;
  useEffect(() => {
    const el = shell.current;
    if (!el) return;
    const over = (e: DragEvent) => {
      e.preventDefault();
      setDragging(true);
    };
    const leave = () => setDragging(false);
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      if (e.dataTransfer?.files.length) dropped.current(e.dataTransfer.files);
    };
    el.addEventListener('dragover', over);
    el.addEventListener('dragleave', leave);
    el.addEventListener('drop', drop);
    return () => {
      el.removeEventListener('dragover', over);
      el.removeEventListener('dragleave', leave);
      el.removeEventListener('drop', drop);
    };
  }, []);

  const subtitle =
    typing.length > 0
      ? `${others.length === 1 ? '' : typing.map(name).join(', ')} typing…`.trim()
      : chat.kind === ChatKind.GROUP
        ? `${chat.members.length} members`
        : presence?.online
          ? 'online'
          : presence?.lastSeen
            ? `last seen ${timeLabel(presence.lastSeen)}`
            : '';

  return (
    <div class={`shell chat${dragging ? ' dragging' : ''}`} ref={shell}>
      <header class="bar">
        <button type="button" class="link" onClick={onBack}>
          ‹ Chats
        </button>
        <div class="heading">
          <h1>{chatTitle(chat, me, name)}</h1>
          <p class="subtitle" aria-live="polite">
            {subtitle}
          </p>
        </div>
        {/* Room for more actions (calls) beside the chat's info. */}
        <div class="actions">
          {props.onInfo && (
            <button type="button" class="link" onClick={props.onInfo}>
              {chat.kind === ChatKind.GROUP ? 'Group info' : 'Info'}
            </button>
          )}
        </div>
      </header>
      <ConnectionBanner status={status} />
      <ChatFlags chat={chat} conversations={conversations} />
      <main>
        {lines.length === 0 && <p class="empty">No messages on this device yet. Say hello.</p>}
        <ol class="messages" aria-label="Messages" aria-live="polite" ref={list}>
          {lines.map((l) => (
            <MessageItem
              key={l.key}
              line={l}
              chat={chat}
              others={others}
              name={name}
              conversations={conversations}
              onReply={() => setDraft({ kind: 'reply', seq: l.seq! })}
              onEdit={() => setDraft({ kind: 'edit', seq: l.seq!, text: l.text })}
              onError={report}
            />
          ))}
        </ol>
        <Compose
          chatId={chat.id}
          draft={draft}
          quoted={quotedLine(conversations, chat.id, draft)}
          onDone={() => setDraft({ kind: 'new' })}
          onTyping={() => typingNotifier(device).keystroke(chat.id)}
          onSend={(text) => {
            setError('');
            typingNotifier(device).stop();
            const d = draft;
            setDraft({ kind: 'new' });
            const work =
              d.kind === 'edit'
                ? conversations.edit(chat.id, d.seq, text)
                : conversations.send(chat.id, text, d.kind === 'reply' ? d.seq : undefined);
            work.catch(report);
          }}
          onFiles={sendFiles}
        />
        <p role="alert" class="error">
          {error}
        </p>
      </main>
    </div>
  );
}

function quotedLine(c: Conversations, chatId: string, d: Draft): Line | undefined {
  return d.kind === 'new' ? undefined : c.find(chatId, d.seq);
}

// One tracker and one notifier per device: typing state outlives a chat being open.
const trackers = new WeakMap<WebDevice, TypingTracker>();
const notifiers = new WeakMap<WebDevice, TypingNotifier>();

function typingNotifier(device: WebDevice): TypingNotifier {
  let n = notifiers.get(device);
  if (!n) {
    n = new TypingNotifier({ send: (chatId, state) => device.client.typing(chatId, state) });
    notifiers.set(device, n);
  }
  return n;
}

/** Who is typing in the chat (user ids), live. */
function useTyping(device: WebDevice, chatId: string): string[] {
  const tracker = useMemo(() => {
    let t = trackers.get(device);
    if (!t) {
      t = new TypingTracker();
      t.attach(device.client);
      trackers.set(device, t);
    }
    return t;
  }, [device]);
  const [typing, setTyping] = useState<string[]>([]);
  useEffect(
    () =>
      tracker.on('change', (id, users) => {
        if (id === chatId) setTyping(users);
      }),
    [tracker, chatId],
  );
  useEffect(() => () => typingNotifier(device).stop(), [device, chatId]);
  return typing;
}

/** The other person's presence in a direct chat, while it is open. */
function usePresence(device: WebDevice, userId: string | undefined): PresenceInfo | undefined {
  const [presence, setPresence] = useState<PresenceInfo | undefined>();
  useEffect(() => {
    if (!userId) return;
    const client = device.client;
    const stop = client.on('presence', (p) => {
      if (p.userId === userId) setPresence(p);
    });
    const ask = () =>
      client.subscribePresence([userId]).then(
        (list) => setPresence(list.find((p) => p.userId === userId)),
        () => {},
      );
    const stopConnected = client.on('connected', () => void ask());
    if (client.connected) void ask();
    return () => {
      stop();
      stopConnected();
      client.subscribePresence([]).catch(() => {});
    };
  }, [device, userId]);
  return presence;
}
