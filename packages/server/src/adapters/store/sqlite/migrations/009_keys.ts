/** 009: the key directory (public keys only). Never edit once landed. */
export const sql = `
CREATE TABLE device_keys (
  device_id TEXT PRIMARY KEY,
  identity_key BLOB NOT NULL,
  registration_id INTEGER NOT NULL,
  signed_id INTEGER NOT NULL,
  signed_key BLOB NOT NULL,
  signed_sig BLOB NOT NULL,
  last_resort_id INTEGER NOT NULL,
  last_resort_key BLOB NOT NULL,
  last_resort_sig BLOB NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE one_time_keys (
  device_id TEXT NOT NULL,
  key_id INTEGER NOT NULL,
  public_key BLOB NOT NULL,
  PRIMARY KEY (device_id, key_id)
) WITHOUT ROWID;
`;
