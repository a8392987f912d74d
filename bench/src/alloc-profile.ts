/**
 * Summarises a V8 sampling heap profile (.heapprofile) taken with collected objects kept
 * (`--alloc-profile`): bytes allocated per function over the run, whether the object
 * lived or not, so the functions that feed the young generation come first.
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { where } from './profile.js';
import type { AllocationSummary } from './types.js';

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: HeapNode[];
}

export function summariseAllocations(path: string, top = 20): AllocationSummary {
  const prof = JSON.parse(readFileSync(path, 'utf8')) as { head: HeapNode };
  const agg = new Map<string, { fn: string; where: string; bytes: number }>();
  let total = 0;
  const stack: HeapNode[] = [prof.head];
  while (stack.length > 0) {
    const n = stack.pop()!;
    stack.push(...n.children);
    if (n.selfSize === 0) continue;
    total += n.selfSize;
    const fn = n.callFrame.functionName || '(anonymous)';
    const w = where(n.callFrame.url, n.callFrame.lineNumber);
    const key = `${fn}@${w}`;
    const a = agg.get(key) ?? { fn, where: w, bytes: 0 };
    a.bytes += n.selfSize;
    agg.set(key, a);
  }
  const rows = [...agg.values()].sort((a, b) => b.bytes - a.bytes).slice(0, top);
  return {
    path: relative(process.cwd(), path),
    totalBytes: total,
    top: rows.map((r) => ({ ...r, pct: total ? (100 * r.bytes) / total : 0 })),
  };
}
