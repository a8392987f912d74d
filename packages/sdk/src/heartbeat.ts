/**
 * Client-side liveness: when nothing arrived for a whole heartbeat interval (and no request
 * is waiting, whose own timeout already watches the socket), send a ping. Its request
 * timeout then catches a socket that died silently, which browsers cannot see otherwise.
 */
export class Heartbeat {
  private timer: ReturnType<typeof setInterval> | undefined;
  private heard = false;

  /** Restarts the watch for a new socket; `intervalMs` <= 0 disables it. */
  start(intervalMs: number, ping: () => void, busy: () => boolean): void {
    this.stop();
    if (intervalMs <= 0) return;
    this.heard = true;
    this.timer = setInterval(() => {
      if (!this.heard && !busy()) ping();
      this.heard = false;
    }, intervalMs);
  }

  /** A frame arrived: the socket is alive. */
  heardFrame(): void {
    this.heard = true;
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
