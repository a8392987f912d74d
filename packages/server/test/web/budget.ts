/**
 * The web client's load budgets, measured in the page: the JavaScript the load fetched
 * (every script resource the Performance API lists, fetched again and gzipped: what a
 * compressing proxy would send) and the time from navigation start to the app's
 * `parley-interactive` mark (the first screen rendered and listening).
 */
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';

export const JS_BUDGET_BYTES = 300 * 1024;
export const INTERACTIVE_BUDGET_MS = 1000;

export interface LoadCost {
  scripts: string[];
  jsGzipBytes: number;
  interactiveMs: number;
}

export async function loadCost(page: Page): Promise<LoadCost> {
  // A function, not a string: the page's CSP forbids eval.
  await page.waitForFunction(
    () =>
      (
        globalThis as unknown as { performance: { getEntriesByName(n: string): unknown[] } }
      ).performance.getEntriesByName('parley-interactive').length > 0,
  );
  const seen = (await page.evaluate(`({
    interactiveMs: performance.getEntriesByName('parley-interactive')[0].startTime,
    scripts: performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\\.m?js(\\?|$)/.test(n)),
  })`)) as { interactiveMs: number; scripts: string[] };
  let jsGzipBytes = 0;
  for (const url of seen.scripts)
    jsGzipBytes += gzipSync(Buffer.from(await (await fetch(url)).arrayBuffer())).length;
  return { ...seen, jsGzipBytes };
}
