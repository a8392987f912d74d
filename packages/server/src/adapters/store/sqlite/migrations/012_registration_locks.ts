/**
 * 012: registration-lock PINs, one row per user (its own table, so deleting an account erases
 * the PIN with one delete). Never edit once landed.
 */
export const sql = `
CREATE TABLE registration_locks (
  user_id TEXT PRIMARY KEY,
  pin_hash TEXT NOT NULL,
  set_at INTEGER NOT NULL,
  failed_attempts INTEGER NOT NULL DEFAULT 0,
  locked_until INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
`;
