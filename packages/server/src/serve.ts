/**
 * `parley serve`: loads the config (defaults < PARLEY_* env < flags), starts a node and
 * stops it gracefully on SIGTERM/SIGINT (in-flight commits finish, sockets close with 1001).
 */
import { ParleyError } from '@parley/protocol';
import { loadConfig, settingsHelp } from './config/load.js';
import { createNode } from './node.js';

const HELP = `Usage: parley serve [flags]

Runs a Parley node: HTTP + WebSocket on one port, SQLite in --data-dir.
Every setting can also be given as an environment variable (PARLEY_*); flags win.

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
  const node = createNode(config);
  const port = await node.start();
  process.stderr.write(
    `Parley listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port} (data: ${config.dataDir}, sqlite synchronous=${config.sqliteSynchronous})\n`,
  );
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
