/**
 * One line from the user on stdin, the question on stderr. A hidden answer (a PIN) is not
 * echoed when stdin is a terminal; piped input is read as is, one line per question.
 */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { CliError } from './errors.js';

export async function ask(
  question: string,
  opts: { hidden?: boolean; missing?: string } = {},
): Promise<string> {
  let muted = false;
  // The terminal echoes what is typed through this output; once the question is out, a hidden
  // answer's echo is dropped.
  const output = new Writable({
    write(chunk, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: process.stdin.isTTY });
  try {
    const answer = rl.question(question);
    muted = opts.hidden === true;
    const closed = new Promise<never>((_, reject) =>
      rl.once('close', () => reject(new CliError(opts.missing ?? 'no answer given'))),
    );
    return (await Promise.race([answer, closed])).trim();
  } finally {
    if (muted && process.stdin.isTTY) process.stderr.write('\n');
    rl.close();
  }
}
