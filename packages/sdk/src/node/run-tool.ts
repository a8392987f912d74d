/**
 * Runs an outside program (ffmpeg, ffprobe) with bounds: it is killed past `timeoutMs` or
 * once it prints more than `maxOutput` bytes, and resolves with what it printed on stdout.
 * A program that is not installed is ToolMissing, so the caller can say so.
 */
import { spawn } from 'node:child_process';

export class ToolMissing extends Error {
  constructor(readonly tool: string) {
    super(`${tool} is not installed`);
  }
}

export function runTool(
  command: string,
  args: string[],
  o: { timeoutMs: number; maxOutput: number },
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let size = 0;
    let failure: Error | undefined;
    const stop = (err: Error) => {
      failure ??= err;
      child.kill('SIGKILL');
    };
    const timer = setTimeout(
      () => stop(new Error(`${command} took longer than ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > o.maxOutput) stop(new Error(`${command} printed more than ${o.maxOutput} bytes`));
      else out.push(chunk);
    });
    // Its messages are not shown (they may name the file); only drained, so it never blocks.
    child.stderr.resume();
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new ToolMissing(command) : err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (code !== 0) reject(new Error(`${command} exited with ${code}`));
      else resolve(Buffer.concat(out));
    });
  });
}
