/**
 * One chat: the messages this device decrypted or sent since the page loaded, new ones live,
 * and a labelled box that sends end-to-end encrypted. A sent message shows ✓ once the server
 * stored it and ✓✓ once every other member's device got it (coloured once they read it). What
 * the chat shows counts as read.
 */
import type { ChatInfo } from '@parley/sdk/browser';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Conversations, Line } from './conversations.js';
import type { WebDevice } from './device.js';
import { describeError } from './errors.js';
import { chatTitle, timeLabel } from './format.js';

const TICKS = {
  pending: { mark: '🕓', label: 'Sending' },
  failed: { mark: '!', label: 'Not sent' },
  sent: { mark: '✓', label: 'Sent' },
  delivered: { mark: '✓✓', label: 'Delivered' },
  read: { mark: '✓✓', label: 'Read' },
} as const;

export function ChatView(props: {
  chat: ChatInfo;
  me: string;
  device: WebDevice;
  conversations: Conversations;
  onBack: () => void;
}) {
  const { chat, me, device, conversations, onBack } = props;
  const [, setVersion] = useState(0);
  const [text, setText] = useState('');
  const [error, setError] = useState('');
  const list = useRef<HTMLOListElement>(null);
  const box = useRef<HTMLTextAreaElement>(null);
  useEffect(() => conversations.subscribe(() => setVersion((v) => v + 1)), [conversations]);
  useEffect(() => box.current?.focus(), []);
  const lines = conversations.of(chat.id);
  // The newest message stays in view.
  useLayoutEffect(() => {
    list.current?.lastElementChild?.scrollIntoView({ block: 'end' });
  }, [lines.length]);
  // What is on screen counts as read (the chat list's unread count, the sender's read ticks).
  const lastTheirs = lines.findLast((l) => !l.mine && l.seq !== undefined)?.seq;
  useEffect(() => {
    if (lastTheirs !== undefined) device.client.markRead(chat.id, lastTheirs).catch(() => {});
  }, [device, chat.id, lastTheirs]);
  const others = chat.members.map((m) => m.userId).filter((id) => id !== me);

  const send = (e: Event) => {
    e.preventDefault();
    const body = text.trim();
    if (!body) return;
    setText('');
    setError('');
    conversations.send(chat.id, body).catch((err) => setError(describeError(err)));
  };
  // Enter sends; Shift+Enter starts a new line.
  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e);
  };
  const tick = (l: Line) =>
    TICKS[l.sending ?? (l.seq === undefined ? 'pending' : conversations.status(chat.id, l.seq, others))];

  return (
    <div class="shell chat">
      <header class="bar">
        <button type="button" class="link" onClick={onBack}>
          ‹ Chats
        </button>
        <h1>{chatTitle(chat, me)}</h1>
      </header>
      <main>
        {lines.length === 0 && <p class="empty">No messages on this device yet. Say hello.</p>}
        <ol class="messages" aria-label="Messages" aria-live="polite" ref={list}>
          {lines.map((l) => {
            const t = l.mine ? tick(l) : undefined;
            return (
              <li key={l.key} class={l.mine ? 'mine' : 'theirs'}>
                {!l.mine && others.length > 1 && <span class="sender">{l.senderUserId}</span>}
                <span class="text">{l.text}</span>
                <span class="meta">
                  {timeLabel(l.serverTime)}
                  {t && (
                    <span class={`tick ${t.label.toLowerCase().replace(' ', '-')}`} title={t.label}>
                      {' '}
                      <span aria-hidden="true">{t.mark}</span>
                      <span class="visually-hidden">{t.label}</span>
                    </span>
                  )}
                </span>
              </li>
            );
          })}
        </ol>
        <form class="compose" onSubmit={send}>
          <label for="message" class="visually-hidden">
            Message
          </label>
          <textarea
            id="message"
            ref={box}
            rows={1}
            placeholder="Message"
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
            onKeyDown={onKeyDown}
          />
          <button type="submit">Send</button>
        </form>
        <p role="alert" class="error">
          {error}
        </p>
      </main>
    </div>
  );
}
