import { localStoreContract } from './local-store.contract.js';
import { MemoryLocalStore } from './local-store.js';

localStoreContract('MemoryLocalStore', async () => {
  const store = new MemoryLocalStore();
  return { store, reopen: async () => store };
});
