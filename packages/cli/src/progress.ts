/**
 * A transfer's progress on a terminal: bytes done of the whole, percent, rate and time left,
 * redrawn in place on a TTY (at most every 100 ms), and one line per tenth of the way
 * otherwise (logs and pipes), so a script can follow it too. A resumed transfer says where it
 * went on from, and its rate counts only this run's bytes.
 */
import { formatSize } from './attachments.js';

export class ProgressLine {
  private readonly started: number;
  private lastDraw = 0;
  private lastTenth = -1;
  private said = false;

  constructor(
    private readonly out: { write(s: string): unknown; isTTY?: boolean },
    private readonly name: string,
    private readonly now: () => number = Date.now,
  ) {
    this.started = now();
  }

  update(sent: number, total: number, resumedAt = 0): void {
    if (resumedAt > 0 && !this.said) {
      this.said = true;
      this.line(`${this.name}: resuming at ${formatSize(resumedAt)} of ${formatSize(total)}`);
    }
    const tenth = total > 0 ? Math.floor((sent / total) * 10) : 10;
    const t = this.now();
    if (this.out.isTTY) {
      if (sent < total && t - this.lastDraw < 100) return;
      this.lastDraw = t;
      this.out.write(`\r\x1b[K${this.text(sent, total, resumedAt, t)}`);
      if (sent >= total) this.out.write('\n');
      return;
    }
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.line(this.text(sent, total, resumedAt, t));
  }

  private line(s: string): void {
    this.out.write(`${this.out.isTTY ? '\r\x1b[K' : ''}${s}\n`);
  }

  private text(sent: number, total: number, resumedAt: number, t: number): string {
    const pct = total > 0 ? Math.floor((sent / total) * 100) : 100;
    const seconds = Math.max((t - this.started) / 1000, 0.001);
    const rate = (sent - resumedAt) / seconds;
    const left = rate > 0 ? Math.ceil((total - sent) / rate) : undefined;
    const eta = sent >= total ? 'done' : left === undefined ? 'ETA –' : `ETA ${formatDuration(left)}`;
    return `${this.name}: ${pct}% ${formatSize(sent)} of ${formatSize(total)}, ${formatSize(Math.round(rate))}/s, ${eta}`;
  }
}

function formatDuration(s: number): string {
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}
