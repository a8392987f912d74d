/**
 * `/mute`, `/unmute` and `/dnd` in the interactive chat, and the mute marker `/chats` shows.
 * A mute or do-not-disturb is kept by the server for every device of the user; it silences
 * push alerts, not the chat (messages still arrive and show here).
 */
import { isMuted, MUTE_FOREVER, type MuteUntil, type ParleyClient } from '@parley/sdk';
import { CliError } from './errors.js';

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** The longest timed mute (a year); longer is "forever". */
const MAX_MS = 366 * UNIT_MS.d!;

/** "8h", "30m", "2d", "1w" or "forever" into an end time; undefined when it is none of those. */
export function parseMuteFor(arg: string, now: number): MuteUntil | undefined {
  const a = arg.trim().toLowerCase();
  if (a === 'forever' || a === 'always') return 'forever';
  const m = /^(\d{1,4})([mhdw])$/.exec(a);
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 && ms <= MAX_MS ? now + ms : undefined;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** "18:00" today, else "2026-12-06 18:00" (local time). */
function endText(until: number, now: number): string {
  const d = new Date(until);
  const time = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  const n = new Date(now);
  const today =
    d.getFullYear() === n.getFullYear() && d.getMonth() === n.getMonth() && d.getDate() === n.getDate();
  return today ? time : `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${time}`;
}

/** The marker /chats shows: "🔇 until 18:00", "🔇 muted" (forever), or "" when not muted. */
export function muteMarker(mutedUntil: number, now: number): string {
  if (!isMuted(mutedUntil, now)) return '';
  return mutedUntil >= MUTE_FOREVER ? '🔇 muted' : `🔇 until ${endText(mutedUntil, now)}`;
}

/** "until 18:00" / "until you turn it off" for a sentence. */
function untilText(until: number, now: number, off: string): string {
  return until >= MUTE_FOREVER ? `until you ${off}` : `until ${endText(until, now)}`;
}

export interface MuteDeps {
  client: ParleyClient;
  print(line: string): void;
  now(): number;
  /** The open chat's id and name; throws when none is open. */
  open(): { id: string; name: string };
}

export async function runMuteCommand(d: MuteDeps, name: string, args: string[]): Promise<void> {
  const now = d.now();
  switch (name) {
    case 'mute': {
      const chat = d.open();
      const wanted = parseMuteFor(args[0] ?? '8h', now);
      if (wanted === undefined)
        throw new CliError('usage: /mute [8h|1w|forever] (m, h, d or w; at most a year)');
      const until = await d.client.mute(chat.id, wanted);
      d.print(
        `Muted ${chat.name} ${untilText(until, now, 'unmute it')}: its messages still arrive, without alerts (mentions in a group still alert).`,
      );
      return;
    }
    case 'unmute': {
      const chat = d.open();
      await d.client.unmute(chat.id);
      d.print(`Unmuted ${chat.name}.`);
      return;
    }
    case 'dnd': {
      const arg = args[0]?.toLowerCase();
      let until: number;
      if (arg === undefined) until = await d.client.doNotDisturb();
      else if (arg === 'off') until = await d.client.setDoNotDisturb(0);
      else {
        const wanted = parseMuteFor(arg, now);
        if (wanted === undefined) throw new CliError('usage: /dnd [8h|1w|forever|off]');
        until = await d.client.setDoNotDisturb(wanted);
      }
      d.print(
        isMuted(until, now)
          ? `Do not disturb is on ${untilText(until, now, 'turn it off')}: no chat alerts on your devices, mentions included.`
          : 'Do not disturb is off.',
      );
      return;
    }
  }
}
