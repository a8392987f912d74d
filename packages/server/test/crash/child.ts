/** A real node in its own process for the crash tests: `node child.js [serve flags]`. */
import { serveMain } from '../../src/serve.js';

await serveMain(process.argv.slice(2));
