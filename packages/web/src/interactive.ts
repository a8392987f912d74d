/**
 * Marks the moment the first screen of a page load can be used (the registration form, or the
 * chat list of a signed-in browser): a `parley-interactive` performance mark, once per load,
 * which the browser tests hold to the time-to-interactive budget.
 */
export const INTERACTIVE_MARK = 'parley-interactive';

export function markInteractive(): void {
  if (performance.getEntriesByName(INTERACTIVE_MARK).length === 0) performance.mark(INTERACTIVE_MARK);
}
