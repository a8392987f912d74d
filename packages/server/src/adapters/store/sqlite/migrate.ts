/** Numbered migrations applied in order inside one transaction each; user_version records progress. */
import type Database from 'better-sqlite3';
import { sql as m001 } from './migrations/001_init.js';
import { sql as m002 } from './migrations/002_presence.js';
import { sql as m003 } from './migrations/003_read_position.js';
import { sql as m004 } from './migrations/004_group_admin.js';
import { sql as m005 } from './migrations/005_receipts.js';
import { sql as m006 } from './migrations/006_message_features.js';
import { sql as m007 } from './migrations/007_disappearing_view_once.js';
import { sql as m008 } from './migrations/008_pins.js';
import { sql as m009 } from './migrations/009_keys.js';
import { sql as m010 } from './migrations/010_one_time_grants.js';
import { sql as m011 } from './migrations/011_media_uploads.js';
import { sql as m012 } from './migrations/012_registration_locks.js';
import { sql as m013 } from './migrations/013_discovery_lookups.js';
import { sql as m014 } from './migrations/014_profiles.js';
import { sql as m015 } from './migrations/015_blocking_reports.js';
import { sql as m016 } from './migrations/016_receipt_at.js';
import { sql as m017 } from './migrations/017_sent_receipt_at.js';
import { sql as m018 } from './migrations/018_push.js';
import { sql as m019 } from './migrations/019_mutes.js';
import { sql as m020 } from './migrations/020_push_preview.js';
import { sql as m021 } from './migrations/021_media_refs.js';
import { sql as m022 } from './migrations/022_user_sent_receipt_at.js';
import { sql as m023 } from './migrations/023_last_seq_from_messages.js';
import { sql as m024 } from './migrations/024_trim_receipt_marks.js';

const migrations: readonly string[] = [
  m001,
  m002,
  m003,
  m004,
  m005,
  m006,
  m007,
  m008,
  m009,
  m010,
  m011,
  m012,
  m013,
  m014,
  m015,
  m016,
  m017,
  m018,
  m019,
  m020,
  m021,
  m022,
  m023,
  m024,
];

export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return migrations.length;
}
