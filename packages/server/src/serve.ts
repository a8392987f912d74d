/**
 * `parley serve`: loads the config (defaults < PARLEY_* env < flags), starts a node and
 * stops it gracefully on SIGTERM/SIGINT (in-flight commits finish, sockets close with 1001).
 */
import { ParleyError } from '@parley/protocol';
import { allocatorAdvice, glibcVersion } from './allocator.js';
import { loadConfig, settingsHelp } from './config/load.js';
import { openNode } from './node.js';

const HELP = `Usage: parley serve [flags]

Runs a Parley node: HTTP + WebSocket on one port. Alone: SQLite in --data-dir. Several
nodes: --store postgres://... --bus redis://... (see docs/operations.md).
Every setting can also be given as an environment variable (PARLEY_*); flags win.
The HTTP API is described by GET /v1/openapi.json; a browser app on another origin
needs that origin in --cors-origins.

Settings:
${settingsHelp()}
`;

export async function serveMain(argv: string[]): Promise<void> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig({ env: process.env, argv });
  } catch (err) {
    if (err instanceof ParleyError) {
      process.stderr.write(`parley serve: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let node: Awaited<ReturnType<typeof openNode>>;
  let port: number;
  try {
    node = await openNode(config);
    port = await node.start();
  } catch (err) {
    if (err instanceof ParleyError) {
      process.stderr.write(`parley serve: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const storeInfo =
    config.store === 'sqlite'
      ? `sqlite in ${config.dataDir}, synchronous=${config.sqliteSynchronous}`
      : 'postgres';
  const busInfo = config.bus === 'local' ? 'single node' : `bus ${redactUrl(config.bus)}`;
  process.stderr.write(
    `Parley listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port} (${storeInfo}; ${busInfo})\n`,
  );
  const advice = allocatorAdvice(process.env, glibcVersion());
  if (advice) process.stderr.write(`Memory: ${advice}\n`);
  if (config.dev)
    process.stderr.write(`Dev mode: registration codes are written to ${config.dataDir}/sms-codes.log\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${signal}: shutting down\n`);
    node.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`shutdown failed: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** The URL without its user and password. */
function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//');
}
