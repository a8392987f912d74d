/**
 * Heartbeats in slices. Every connection is visited once a period, a slice of them at a
 * time: a round is `slices` ticks of `tickMs`, and by its k-th tick the first k/slices of the
 * connections have been visited. A sweep over every connection in one turn of the event loop
 * would write a ping to each socket at once and hold up every other socket for as long
 * (1,000 writes are about 20 ms, 100,000 about 2 s), and the pongs would come back together.
 *
 * A round walks the connection map with a live iterator: connections that close are skipped,
 * and connections that arrive are appended and visited in the same round.
 */

/** The longest tick: a round of 25 s (the default period) is 250 slices. */
const MAX_TICK_MS = 100;
/** The shortest tick (short periods are for tests). */
const MIN_TICK_MS = 10;
/** Slices a round aims at, when the period allows ticks of at least MIN_TICK_MS. */
const SLICES = 250;

export class HeartbeatRounds<T> {
  readonly tickMs: number;
  readonly slices: number;
  /** The round's walk over the connections (once finished, an iterator stays finished). */
  private round: Iterator<T> | undefined;
  private tickInRound = 0;
  private visited = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    periodMs: number,
    private readonly items: { readonly size: number; values(): Iterator<T> },
    private readonly beat: (item: T, now: number) => void,
  ) {
    this.tickMs = Math.min(MAX_TICK_MS, Math.max(MIN_TICK_MS, Math.floor(periodMs / SLICES)));
    this.slices = Math.max(1, Math.round(periodMs / this.tickMs));
  }

  start(): void {
    this.timer ??= setInterval(() => this.tick(Date.now()), this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One slice: visits connections until k/slices of them have been visited this round. */
  tick(now: number): void {
    this.tickInRound++;
    const last = this.tickInRound >= this.slices;
    // The last tick visits whatever is left (counts of visits include connections since closed).
    const due = last
      ? Number.POSITIVE_INFINITY
      : Math.ceil((this.items.size * this.tickInRound) / this.slices);
    while (this.visited < due) {
      this.round ??= this.items.values();
      const next = this.round.next();
      if (next.done) break;
      this.visited++;
      this.beat(next.value, now);
    }
    if (last) {
      this.round = undefined;
      this.tickInRound = 0;
      this.visited = 0;
    }
  }
}
