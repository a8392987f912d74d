/**
 * 006: the phone hashes each user looked up in contact discovery within the last day, as keyed
 * digests (never the hash itself), so only new numbers count against the daily budget. Rows
 * are forgotten after the day and erased with the account. Never edit once landed.
 */
export const migration = {
  version: 6,
  name: 'discovery_lookups',
  sql: `
CREATE TABLE discovery_lookups (
  user_id text NOT NULL,
  digest text NOT NULL,
  looked_up_at bigint NOT NULL,
  PRIMARY KEY (user_id, digest)
);
CREATE INDEX discovery_lookups_at ON discovery_lookups (looked_up_at);
`,
} as const;
