#!/usr/bin/env node
/**
 * Entry point of the `parley` command. Failures print one line on stderr; exit codes are
 * 0 ok, 1 failure, 2 bad usage.
 */
import { main } from './dispatch.js';
import { exitCodeOf, formatError } from './errors.js';

main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`parley: ${formatError(err)}\n`);
    process.exitCode = exitCodeOf(err);
  },
);
