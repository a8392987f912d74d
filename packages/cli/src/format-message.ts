/**
 * How `parley chat` shows messages: seq numbers to refer to them, markers for replies,
 * forwards, edits and deletes, files, reaction summaries and ticks on the user's own
 * messages. Pure functions, safe for a terminal.
 */
import type { MessageStatus } from '@parley/sdk';
import { formatSize } from './attachments.js';
import { type FileInfo, type LogEffect, type LogEntry, reactionSummary } from './message-log.js';
import { forTerminal } from './text.js';

const TICKS: Record<MessageStatus, string> = { sent: '✓', delivered: '✓✓', read: 'read' };

/** ✓ (sent), ✓✓ (delivered) or "read". */
export function tick(status: MessageStatus): string {
  return TICKS[status];
}

const KIND_MARK: Record<string, string> = { image: '📷', video: '🎬', audio: '🎤' };

/** `0:07`, `12:30`, `1:02:03`. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  const [h, m, sec] = [Math.floor(s / 3600), Math.floor((s % 3600) / 60), s % 60];
  const two = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${two(m)}:${two(sec)}` : `${m}:${two(sec)}`;
}

/**
 * `[file plan.pdf, 12.3 KB]`; a photo, video or voice note shows its kind and what its
 * pointer tells before download: `[📷 photo.jpg, 2.1 MB, 4032×3024, thumbnail 320×240]`,
 * `[🎬 trip.mp4, 20.0 MB, 1920×1080, 0:42, thumbnail 320×180]`, `[🎤 note.ogg, 12.0 KB, 0:07]`.
 */
export function fileLabel(f: FileInfo): string {
  const mark = KIND_MARK[f.mime?.split('/')[0]?.toLowerCase() ?? ''] ?? 'file';
  const parts = [`${mark} ${forTerminal(f.name ?? 'without a name')}`, formatSize(f.size)];
  const p = f.preview;
  if (p?.width !== undefined && p.height !== undefined) parts.push(`${p.width}×${p.height}`);
  if (p?.durationMs !== undefined) parts.push(formatDuration(p.durationMs));
  if (p?.thumbnail) parts.push(`thumbnail ${p.thumbnail.width}×${p.thumbnail.height}`);
  return `[${parts.join(', ')}]`;
}

/**
 * `[chat] #42 sender: (reply to #40) text (edited) ✓✓`; a file shows as
 * `[file plan.pdf, 12.3 KB] caption (/save 42 <path> to save)`.
 */
export function entryLine(chatName: string, senderName: string, e: LogEntry): string {
  const parts: string[] = [];
  if (e.deleted) parts.push('[deleted]');
  else {
    if (e.forwardedMany) parts.push('(forwarded many times)');
    else if (e.forwardCount > 0) parts.push('(forwarded)');
    if (e.replyTo > 0) parts.push(`(reply to #${e.replyTo})`);
    if (e.viewOnce) parts.push('(view once)');
    if (e.file) parts.push(fileLabel(e.file));
    if (e.text !== '' || !e.file) parts.push(forTerminal(e.text));
    if (e.edited) parts.push('(edited)');
    if (e.file?.pointer) parts.push(`(/save ${e.seq} <path> to save)`);
  }
  if (e.status) parts.push(tick(e.status));
  return `[${forTerminal(chatName)}] #${e.seq} ${forTerminal(senderName)}: ${parts.join(' ')}`;
}

/** `[chat]   #42 reactions: 👍 2  ❤️ 1` (or "no reactions"). */
export function reactionsLine(chatName: string, seq: number, reactions: ReadonlyMap<string, string>): string {
  const summary = reactions.size === 0 ? 'no reactions' : forTerminal(reactionSummary(reactions));
  return `[${forTerminal(chatName)}]   #${seq} reactions: ${summary}`;
}

/** `[chat]   ✓✓ message 42`: the status of one of the user's messages changed. */
export function statusLine(chatName: string, seq: number, status: MessageStatus): string {
  return `[${forTerminal(chatName)}]   ${tick(status)} message ${seq}`;
}

/**
 * The lines for what an incoming message did: the message itself, an edited or deleted
 * message shown again, or the reactions of a message. `senderOf` names the sender of the
 * incoming message (edits and deletes of messages not in the log show with it).
 */
export function effectLines(
  chatName: string,
  name: (userId: string) => string,
  effect: LogEffect,
  sender: string,
): string[] {
  const c = forTerminal(chatName);
  switch (effect.kind) {
    case 'message':
      return [entryLine(chatName, name(effect.entry.senderUserId), effect.entry)];
    case 'edit':
      return effect.entry
        ? [entryLine(chatName, name(effect.entry.senderUserId), effect.entry)]
        : [`[${c}] #${effect.refSeq} ${forTerminal(name(sender))}: ${forTerminal(effect.text)} (edited)`];
    case 'delete':
      return effect.entry
        ? [entryLine(chatName, name(effect.entry.senderUserId), effect.entry)]
        : [`[${c}] #${effect.refSeq} [deleted]`];
    case 'reaction':
      if (effect.entry) return [reactionsLine(chatName, effect.refSeq, effect.entry.reactions)];
      return [
        effect.emoji === ''
          ? `[${c}]   #${effect.refSeq} ${forTerminal(name(sender))} removed a reaction`
          : `[${c}]   #${effect.refSeq} ${forTerminal(name(sender))} reacted ${forTerminal(effect.emoji)}`,
      ];
  }
}
