/** `parley admin` in its own process for the multi-node tests: `node admin-child.js [admin args]`. */
import { adminMain } from '../../src/admin-main.js';

process.exitCode = await adminMain(process.argv.slice(2));
