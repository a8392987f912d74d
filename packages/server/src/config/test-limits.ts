/**
 * Abuse limits raised for nodes started by tests (the server's own, and the CLI's), whose
 * clients all come from 127.0.0.1 with test numbers of one prefix.
 */
import { flagName } from './load.js';
import type { ConfigInput } from './schema.js';

/** Limits high enough that no test meets them unless it sets them. */
export const TEST_LIMITS = {
  sendsPerMinute: 1_000_000,
  groupsPerHour: 100_000,
  // Tests that re-register or delete an account ask for several codes for one number.
  codeRequestsPerHour: 100,
  codeRequestsPerIpPerHour: 100_000,
  // Every test number starts +14152 (nextPhone): one prefix.
  codeRequestsPerPrefixPerHour: 100_000,
  codeRequestsPerDayTotal: 1_000_000,
  registrationsPerIpPerDay: 100_000,
  mediaUploadsPerHour: 100_000,
} as const satisfies ConfigInput;

/** TEST_LIMITS as command-line flags, for test nodes started as child processes. */
export function testLimitFlags(): string[] {
  return Object.entries(TEST_LIMITS).flatMap(([key, value]) => [`--${flagName(key)}`, String(value)]);
}
