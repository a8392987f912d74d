/**
 * Files for `/file` and `/save`: reading one to send (size checked before it is read, mime
 * guessed from its extension) and writing a received one where the user said, never over
 * an existing file. A sender's file name is only ever used as a base name.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { CliError } from './errors.js';

/** The largest file `/file` sends. */
export const MAX_FILE_BYTES = 100 * 1024 * 1024;

const MIME: Record<string, string> = {
  '.txt': 'text/plain',
  '.md': 'text/markdown',
  '.csv': 'text/csv',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.css': 'text/css',
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.ppt': 'application/vnd.ms-powerpoint',
  '.pptx': 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  '.odt': 'application/vnd.oasis.opendocument.text',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.heic': 'image/heic',
  '.svg': 'image/svg+xml',
  '.mp3': 'audio/mpeg',
  '.m4a': 'audio/mp4',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/opus',
  '.wav': 'audio/wav',
  '.mp4': 'video/mp4',
  '.mov': 'video/quicktime',
  '.webm': 'video/webm',
};

/** The mime type for a file name's extension, or application/octet-stream. */
export function mimeOf(name: string): string {
  return MIME[extname(name).toLowerCase()] ?? 'application/octet-stream';
}

/** "512 B", "12.3 KB", "4.0 MB", "1.2 GB" (units of 1024). */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/** `~/x` is under the home directory, as in a shell. */
function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

export interface FileToSend {
  bytes: Uint8Array;
  name: string;
  mime: string;
}

/** Reads a file to send; a missing, non-regular or too large file is a CliError. */
export async function readFileToSend(path: string): Promise<FileToSend> {
  const full = resolve(expandHome(path));
  const info = await stat(full).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') throw new CliError(`no such file: ${path}`);
    throw new CliError(`cannot read ${path}: ${err.code ?? err.message}`);
  });
  if (!info.isFile()) throw new CliError(`not a file: ${path}`);
  if (info.size > MAX_FILE_BYTES) {
    throw new CliError(`${path} is ${formatSize(info.size)}: files over 100 MiB cannot be sent`);
  }
  const bytes = await readFile(full).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${path}: ${err.code ?? err.message}`);
  });
  const name = basename(full);
  return { bytes, name, mime: mimeOf(name) };
}

/** A name from a sender that is safe as one path component, or undefined. */
function safeName(name: string | undefined): string | undefined {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed.
  const base = basename((name ?? '').replaceAll('\\', '/')).replace(/[\u0000-\u001f\u007f]/g, '');
  return base === '' || base === '.' || base === '..' ? undefined : base;
}

/** Where writeReceivedFile puts a file: `path`, or the sender's file name (or `file-SEQ`) in it when a directory. */
export async function receivedFileTarget(
  path: string,
  file: { name?: string },
  seq: number,
): Promise<string> {
  const target = resolve(expandHome(path));
  const existing = await stat(target).catch(() => undefined);
  return existing?.isDirectory() ? join(target, safeName(file.name) ?? `file-${seq}`) : target;
}

/**
 * Writes a received file to `path`, or into it under the sender's file name (or
 * `file-SEQ`) when it is a directory. Returns where it went; an existing file is refused.
 */
export async function writeReceivedFile(
  path: string,
  file: { name?: string },
  seq: number,
  bytes: Uint8Array,
): Promise<string> {
  const target = await receivedFileTarget(path, file, seq);
  try {
    // Only the user reads it until they decide otherwise: it was end-to-end encrypted.
    await writeFile(target, bytes, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new CliError(`${target} exists: give another path`);
    if (code === 'ENOENT') throw new CliError(`no such directory for ${target}`);
    throw new CliError(`cannot write ${target}: ${code ?? (err as Error).message}`);
  }
  return target;
}

/**
 * Reads an image file for an avatar or a group icon: an image by its name, not empty, at
 * most `maxBytes`; `what` names it in the errors ("an avatar").
 */
export async function readImageFile(
  path: string,
  maxBytes: number,
  what: string,
): Promise<{ bytes: Uint8Array; mime: string }> {
  const mime = mimeOf(path);
  if (!mime.startsWith('image/')) throw new CliError(`${path} is not an image (.png, .jpg, .gif, .webp)`);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new CliError(`cannot read ${path}`);
  }
  if (size === 0) throw new CliError(`${path} is empty`);
  if (size > maxBytes) throw new CliError(`${what} is at most ${formatSize(maxBytes)}`);
  return { bytes: new Uint8Array(await readFile(path)), mime };
}
