import { mkdtempSync } from 'node:fs';
import { utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blobStoreContract } from '../../../ports/blobs.contract.js';
import { LocalBlobStore } from './local-blobs.js';

blobStoreContract('local disk', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-blobs-'));
  return {
    blobs: new LocalBlobStore(dir),
    setAge: async (id, ms) => {
      const t = (Date.now() - ms) / 1000;
      await utimes(join(dir, id.slice(0, 2), id), t, t);
    },
  };
});
