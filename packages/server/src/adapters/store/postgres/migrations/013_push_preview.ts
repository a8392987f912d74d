/**
 * 013: a push job keeps the sender's sealed preview of its newest message for the device
 * (opaque bytes; NULL when that message came without one). Never edit once landed.
 */
export const migration = {
  version: 13,
  name: 'push_preview',
  sql: `
ALTER TABLE push_jobs ADD COLUMN preview bytea;
`,
} as const;
