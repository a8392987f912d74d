/**
 * Where the client keeps what must survive a restart: per chat, the highest seq the app
 * has received (the dedupe cursor), plus small named values. Invariant: a cursor never
 * moves backwards, and `setCursors` resolves only once the cursors are durable.
 */

export interface ChatCursor {
  chatId: string;
  seq: number;
}

export interface LocalStore {
  /** Highest seq received for the chat; 0 when none. */
  getCursor(chatId: string): Promise<number>;
  /** Raises the given cursors (a lower seq than stored is ignored); durable on resolve. */
  setCursors(cursors: readonly ChatCursor[]): Promise<void>;
  /** A value saved under `key`, or undefined. Values are JSON-serializable. */
  load(key: string): Promise<unknown>;
  /** Saves a JSON-serializable value under `key`; durable on resolve. */
  save(key: string, value: unknown): Promise<void>;
}

/** Keeps everything in memory: the default, and the reference implementation. */
export class MemoryLocalStore implements LocalStore {
  private readonly cursors = new Map<string, number>();
  private readonly values = new Map<string, string>();

  async getCursor(chatId: string): Promise<number> {
    return this.cursors.get(chatId) ?? 0;
  }

  async setCursors(cursors: readonly ChatCursor[]): Promise<void> {
    for (const { chatId, seq } of cursors) {
      if (seq > (this.cursors.get(chatId) ?? 0)) this.cursors.set(chatId, seq);
    }
  }

  async load(key: string): Promise<unknown> {
    const text = this.values.get(key);
    // Stored as JSON so callers cannot mutate what is stored through a shared reference.
    return text === undefined ? undefined : JSON.parse(text);
  }

  async save(key: string, value: unknown): Promise<void> {
    this.values.set(key, JSON.stringify(value));
  }
}
