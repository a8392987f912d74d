/**
 * 003: who was handed which device's one-time prekey, and when (the latest grant per pair),
 * to ration one-time prekeys per requester and per device. Never edit once landed.
 */
export const migration = {
  version: 3,
  name: 'one_time_grants',
  sql: `
CREATE TABLE one_time_grants (
  device_id text NOT NULL,
  requester_user text NOT NULL,
  granted_at bigint NOT NULL,
  PRIMARY KEY (device_id, requester_user)
);
`,
} as const;
