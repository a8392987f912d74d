/**
 * 005: registration-lock PINs, one row per user (its own table, so deleting an account erases
 * the PIN with one delete). Never edit once landed.
 */
export const migration = {
  version: 5,
  name: 'registration_locks',
  sql: `
CREATE TABLE registration_locks (
  user_id text PRIMARY KEY,
  pin_hash text NOT NULL,
  set_at bigint NOT NULL,
  failed_attempts integer NOT NULL DEFAULT 0,
  locked_until bigint NOT NULL DEFAULT 0
);
`,
} as const;
