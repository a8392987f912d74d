/**
 * TURN credentials in the coturn REST-API scheme: the username is `<expiry>:<userId>` (expiry in
 * Unix seconds) and the password base64(HMAC-SHA1(secret, username)). coturn, started with
 * `use-auth-secret` and the same `static-auth-secret`, checks them itself and refuses them once
 * the expiry passes, so the node keeps nothing.
 */
import { createHmac } from 'node:crypto';
import { ParleyError } from '@parley/protocol';
import type { Config } from '../config/schema.js';
import type { Limiters } from '../limits/limiters.js';
import type { Clock } from '../ports/clock.js';
import type { Device } from '../ports/types.js';

export interface TurnCredentials {
  username: string;
  password: string;
  ttlSeconds: number;
  urls: string[];
}

/** The password coturn expects for `username` under `secret`. */
export function turnPassword(secret: string, username: string): string {
  return createHmac('sha1', secret).update(username).digest('base64');
}

export function turnCredentialsFor(
  config: Pick<Config, 'turnSecret' | 'turnUrls' | 'turnTtl'>,
  userId: string,
  nowMs: number,
): TurnCredentials {
  if (!config.turnSecret)
    throw new ParleyError('UNAVAILABLE', 'this server hands out no TURN credentials (turnSecret is not set)');
  const username = `${Math.floor(nowMs / 1000) + config.turnTtl}:${userId}`;
  return {
    username,
    password: turnPassword(config.turnSecret, username),
    ttlSeconds: config.turnTtl,
    urls: [...config.turnUrls],
  };
}

/** What the `getTurnCredentials` frame answers: limited per device, then made. */
export async function issueTurnCredentials(
  deps: { config: Pick<Config, 'turnSecret' | 'turnUrls' | 'turnTtl'>; limiters: Limiters; clock: Clock },
  device: Device,
): Promise<TurnCredentials> {
  if (!deps.config.turnSecret) return turnCredentialsFor(deps.config, device.userId, 0);
  await deps.limiters.take('turn', device.id);
  return turnCredentialsFor(deps.config, device.userId, deps.clock.now());
}
