/** JSON in a KeyValueStore with Uint8Arrays kept as {"$b": base64}. */
import type { KeyValueStore } from '../crypto/types.js';
import { utf8 } from './primitives.js';

export async function getJson<T>(kv: KeyValueStore, ns: string, key: string): Promise<T | undefined> {
  const raw = await kv.get(ns, key);
  if (!raw) return undefined;
  return JSON.parse(new TextDecoder().decode(raw), (_k, v) =>
    v && typeof v === 'object' && typeof v.$b === 'string'
      ? Uint8Array.from(atob(v.$b), (c) => c.charCodeAt(0))
      : v,
  ) as T;
}

export async function putJson(kv: KeyValueStore, ns: string, key: string, value: unknown): Promise<void> {
  const text = JSON.stringify(value, (_k, v) => {
    if (!(v instanceof Uint8Array)) return v;
    let s = '';
    for (const b of v) s += String.fromCharCode(b);
    return { $b: btoa(s) };
  });
  await kv.put(ns, key, utf8(text));
}
