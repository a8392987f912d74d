import { keyValueStoreContract } from './key-value-store.contract.js';
import { MemoryKeyValueStore } from './memory-store.js';

keyValueStoreContract('MemoryKeyValueStore', async () => ({ store: new MemoryKeyValueStore() }), {
  durable: false,
});
