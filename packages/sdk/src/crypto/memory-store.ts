/**
 * KeyValueStore in memory: the reference implementation and the test double. Values are
 * copied in and out, so callers can never alias stored bytes.
 */
import type { KeyValueStore } from './types.js';

export class MemoryKeyValueStore implements KeyValueStore {
  private readonly spaces = new Map<string, Map<string, Uint8Array>>();
  private closed = false;

  async get(ns: string, key: string): Promise<Uint8Array | undefined> {
    this.checkOpen();
    const value = this.spaces.get(ns)?.get(key);
    return value === undefined ? undefined : value.slice();
  }

  async put(ns: string, key: string, value: Uint8Array): Promise<void> {
    this.checkOpen();
    let space = this.spaces.get(ns);
    if (!space) {
      space = new Map();
      this.spaces.set(ns, space);
    }
    space.set(key, value.slice());
  }

  async delete(ns: string, key: string): Promise<void> {
    this.checkOpen();
    this.spaces.get(ns)?.delete(key);
  }

  async keys(ns: string): Promise<string[]> {
    this.checkOpen();
    return [...(this.spaces.get(ns)?.keys() ?? [])].sort(compareCodeUnits);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('key-value store is closed');
  }
}

function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
