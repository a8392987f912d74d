/**
 * This browser's device credentials, kept in localStorage so a reload stays signed in. The
 * stored value is checked on the way in: anything that is not a credential is dropped.
 */
import type { Credentials } from '@parley/sdk/browser';

const KEY = 'parley.credentials';

export function loadCredentials(): Credentials | undefined {
  let value: unknown;
  try {
    value = JSON.parse(localStorage.getItem(KEY) ?? 'null');
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const c = value as Record<string, unknown>;
  const strings = ['serverUrl', 'userId', 'deviceId', 'token'] as const;
  if (!strings.every((k) => typeof c[k] === 'string' && c[k] !== '') || typeof c.primary !== 'boolean')
    return undefined;
  // Credentials of another origin (a copied profile) are not this node's.
  if (c.serverUrl !== location.origin) return undefined;
  return value as Credentials;
}

export function saveCredentials(c: Credentials): void {
  localStorage.setItem(KEY, JSON.stringify(c));
}

export function forgetCredentials(): void {
  localStorage.removeItem(KEY);
}
