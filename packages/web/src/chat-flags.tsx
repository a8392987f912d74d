/**
 * What is set on a chat, under its header: the disappearing-messages timer and the pinned
 * messages (their text as this device has it).
 */
import type { ChatInfo } from '@parley/sdk/browser';
import type { Conversations } from './conversations.js';

function timerText(seconds: number): string {
  const days = seconds / 86400;
  return days >= 1 && Number.isInteger(days) ? `${days} ${days === 1 ? 'day' : 'days'}` : `${seconds} s`;
}

export function ChatFlags({ chat, conversations }: { chat: ChatInfo; conversations: Conversations }) {
  const pins = chat.pins.filter((p) => p.expiresAt > Date.now());
  if (chat.disappearingSeconds === 0 && pins.length === 0) return null;
  return (
    <div class="chat-flags">
      {chat.disappearingSeconds > 0 && (
        <p class="disappearing">
          Disappearing messages: new messages go after {timerText(chat.disappearingSeconds)}.
        </p>
      )}
      {pins.length > 0 && (
        <ul class="pins" aria-label="Pinned messages">
          {pins.map((p) => {
            const line = conversations.find(chat.id, p.seq);
            return (
              <li key={p.seq}>
                Pinned:{' '}
                {line
                  ? line.deleted
                    ? 'a deleted message'
                    : line.text || line.file?.name || 'a file'
                  : `message ${p.seq}`}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
