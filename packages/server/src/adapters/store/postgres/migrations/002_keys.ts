/** 002: the key directory (public keys only). Never edit once landed. */
export const migration = {
  version: 2,
  name: 'keys',
  sql: `
CREATE TABLE device_keys (
  device_id text PRIMARY KEY,
  identity_key bytea NOT NULL,
  registration_id integer NOT NULL,
  signed_id integer NOT NULL,
  signed_key bytea NOT NULL,
  signed_sig bytea NOT NULL,
  last_resort_id integer NOT NULL,
  last_resort_key bytea NOT NULL,
  last_resort_sig bytea NOT NULL,
  updated_at bigint NOT NULL
);

CREATE TABLE one_time_keys (
  device_id text NOT NULL,
  key_id integer NOT NULL,
  public_key bytea NOT NULL,
  PRIMARY KEY (device_id, key_id)
);
`,
} as const;
