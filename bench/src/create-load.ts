/**
 * The create-chats load of one generator process: at a set rate, random devices of this
 * process ask for a direct chat with the next user on their `peers` list (the parent puts
 * each pair on one list only, so no chat is asked for twice). Answers and the CREATED
 * updates this process's devices receive are handed over per window; the parent joins them
 * by chat id, since the two members of a chat may be in different processes.
 */
import type { CreateHooks, LeanClient } from './lean-client.js';
import { nowMs } from './util.js';

export interface CreateCollectResult {
  /** createChat requests sent this window. */
  requested: number;
  /** Requests due this window but not sent: the process was behind or the socket closed. */
  skipped: number;
  /** Requests due this window but not sent because no device had a peer left to ask for. */
  noPeerLeft: number;
  /** Answers this window: [chat id, request sent at, answered at] (ms, nowMs clock). */
  answered: Array<[string, number, number]>;
  /** Refused requests this window, by error code. */
  failed: Record<string, number>;
  /** CREATED updates received this window: [chat id, received at]. */
  arrived: Array<[string, number]>;
  /** Requests sent and not answered yet. */
  outstanding: number;
}

/** Most unanswered requests of this process before new ones are skipped. */
const MAX_OUTSTANDING = 20_000;

const empty = (): Omit<CreateCollectResult, 'outstanding'> => ({
  requested: 0,
  skipped: 0,
  noPeerLeft: 0,
  answered: [],
  failed: {},
  arrived: [],
});

export class CreateLoad implements CreateHooks {
  private w = empty();
  private timer: NodeJS.Timeout | undefined;
  /** Devices that still have peers to ask, each with its remaining list (taken from the end). */
  private readonly askers: Array<{ c: LeanClient; peers: string[] }>;

  constructor(private readonly clients: readonly LeanClient[]) {
    this.askers = clients.filter((c) => c.spec.peers?.length).map((c) => ({ c, peers: [...c.spec.peers!] }));
    for (const c of clients) c.creates = this;
  }

  answered(chatId: string, sentAt: number, at: number): void {
    this.w.answered.push([chatId, sentAt, at]);
  }

  failed(code: string): void {
    this.w.failed[code] = (this.w.failed[code] ?? 0) + 1;
  }

  created(chatId: string, at: number): void {
    this.w.arrived.push([chatId, at]);
  }

  /** Sends `rate` createChat requests per second in all from this process (0 stops). */
  setRate(rate: number): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (rate <= 0) return;
    const t0 = nowMs();
    let issued = 0;
    this.timer = setInterval(() => {
      let due = Math.floor((rate * (nowMs() - t0)) / 1000) - issued;
      // More than a second behind: this process cannot keep up; skip rather than burst.
      if (due > rate) {
        this.w.skipped += due - rate;
        issued += due - rate;
        due = rate;
      }
      if (due <= 0) return;
      let pending = this.outstanding();
      for (; due > 0; due--) {
        issued++;
        if (this.askers.length === 0) {
          this.w.noPeerLeft++;
          continue;
        }
        const k = Math.floor(Math.random() * this.askers.length);
        const a = this.askers[k]!;
        if (!a.c.open || pending >= MAX_OUTSTANDING) {
          this.w.skipped++;
          continue;
        }
        a.c.createChat(a.peers.pop()!);
        this.w.requested++;
        pending++;
        if (a.peers.length === 0) {
          this.askers[k] = this.askers[this.askers.length - 1]!;
          this.askers.pop();
        }
      }
    }, 2);
  }

  /** The window since the last call; starts a new one. */
  collect(): CreateCollectResult {
    const out = { ...this.w, outstanding: this.outstanding() };
    this.w = empty();
    return out;
  }

  private outstanding(): number {
    let n = 0;
    for (const c of this.clients) n += c.createsInflight;
    return n;
  }
}
