/**
 * The C allocator's setting a node runs best with. Node reads and writes every socket through
 * buffers it takes from `malloc` and gives back at once; glibc hands freed memory at the top of
 * its heap back to the kernel straight away, so the next buffers fault their pages in again
 * (zeroed by the kernel; on virtual machines each fault is dear). Keeping 64 MiB of padding
 * (`glibc.malloc.top_pad`) stops that churn. glibc reads the setting only when a process
 * starts, so it is given in the environment: `npm start` and deploy/parley.env.example set it,
 * and `parley serve` says how when it is missing (docs/operations.md, "Memory allocator").
 */

/** The setting, as `GLIBC_TUNABLES` takes it. */
export const GLIBC_TUNABLES_ADVISED = 'glibc.malloc.top_pad=67108864';

/** The glibc version this process runs on, or undefined (another C library, or not Linux). */
export function glibcVersion(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: unknown } } | undefined;
    const version = report?.header?.glibcVersionRuntime;
    return typeof version === 'string' ? version : undefined;
  } catch {
    return undefined; // no report: nothing to advise
  }
}

/**
 * One line for the operator when the process runs on glibc without a top pad of its own
 * (`GLIBC_TUNABLES` naming `glibc.malloc.top_pad`, or the older `MALLOC_TOP_PAD_`); otherwise
 * undefined.
 */
export function allocatorAdvice(env: NodeJS.ProcessEnv, glibc: string | undefined): string | undefined {
  if (glibc === undefined) return undefined;
  if (env.MALLOC_TOP_PAD_ !== undefined) return undefined;
  if ((env.GLIBC_TUNABLES ?? '').split(':').some((t) => t.startsWith('glibc.malloc.top_pad=')))
    return undefined;
  return (
    `glibc ${glibc} gives freed memory back to the kernel at once, which slows sockets and media; ` +
    `start with GLIBC_TUNABLES=${GLIBC_TUNABLES_ADVISED} (docs/operations.md, "Memory allocator")`
  );
}
