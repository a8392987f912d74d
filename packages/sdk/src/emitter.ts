/**
 * A small typed event emitter. Listeners may return a promise: `emitAndWait` awaits them
 * all (used for messages, so the cursor advances only after the app has handled them).
 * A listener that throws never stops the others; its error goes to `onListenerError`.
 */

// biome-ignore lint/suspicious/noExplicitAny: event maps are declared as interfaces of tuples.
export type EventMap = { [event: string]: any[] };
export type Listener<A extends unknown[]> = (...args: A) => void | Promise<void>;

export class TypedEmitter<E extends EventMap> {
  private readonly listeners = new Map<keyof E, Set<Listener<E[keyof E]>>>();

  /** Called with errors thrown or rejected by listeners. */
  protected onListenerError: (err: unknown, event: keyof E) => void = () => {};

  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as Listener<E[keyof E]>);
    return () => this.off(event, listener);
  }

  once<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const off = this.on(event, (...args: E[K]) => {
      off();
      return listener(...args);
    });
    return off;
  }

  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    this.listeners.get(event)?.delete(listener as Listener<E[keyof E]>);
  }

  listenerCount(event: keyof E): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  /** Calls listeners synchronously; promises they return are not awaited. */
  protected emit<K extends keyof E>(event: K, ...args: E[K]): void {
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        const r = listener(...args);
        if (r instanceof Promise) r.catch((err) => this.onListenerError(err, event));
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
  }

  /** Calls listeners and resolves once every returned promise has settled. */
  protected async emitAndWait<K extends keyof E>(event: K, ...args: E[K]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const listener of [...(this.listeners.get(event) ?? [])]) {
      try {
        const r = listener(...args);
        if (r instanceof Promise) pending.push(r.catch((err) => this.onListenerError(err, event)));
      } catch (err) {
        this.onListenerError(err, event);
      }
    }
    if (pending.length > 0) await Promise.all(pending);
  }
}
