export { SqliteStore } from './adapters/store/sqlite/sqlite-store.js';
export { loadConfig } from './config/load.js';
export { type Config, type ConfigInput, configSchema } from './config/schema.js';
export { createLogger } from './log.js';
export { migrateMain } from './migrate-main.js';
export { createNode, type NodeOverrides, type ParleyNode } from './node.js';
export { ManualClock, systemClock } from './ports/clock.js';
export type { Store } from './ports/store.js';
export { serveMain } from './serve.js';
