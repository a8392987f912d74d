/**
 * 010: who was handed which device's one-time prekey, and when (the latest grant per pair),
 * to ration one-time prekeys per requester and per device. Never edit once landed.
 */
export const sql = `
CREATE TABLE one_time_grants (
  device_id TEXT NOT NULL,
  requester_user TEXT NOT NULL,
  granted_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, requester_user)
) WITHOUT ROWID;
`;
