// Collects the events written by summary-reporter.mjs and prints the closing summary of a test
// run: every failed, cancelled and skipped test by file › suite › name with the first line of its
// error or skip reason, then the totals. The last line is always `N passed, N failed, N skipped`
// (failed counts cancelled tests too), so a CI parser reading the closing line sees any failure.
import { relative } from 'node:path';

const cancelTypes = new Set(['cancelledByParent', 'testTimeoutFailure']);

export class TestSummary {
  /** @param {string} root paths are shown relative to this @param {string[]} files every file run */
  constructor(root, files) {
    this.root = root;
    this.files = files;
    this.stacks = new Map(); // file -> names of the tests started at each nesting level
    this.running = new Map(); // file -> set of test paths started and not yet finished
    this.finishedFiles = new Set();
    this.failed = [];
    this.cancelled = [];
    this.skipped = [];
    this.passed = 0;
    this.todo = 0;
    this.nodeTotals = new Map();
    this.lastProgressAt = Date.now();
  }

  /** Takes one JSON line from the reporter; lines that are not JSON are ignored. */
  addLine(text) {
    let ev;
    try {
      ev = JSON.parse(text);
    } catch {
      return;
    }
    this.add(ev);
  }

  add(ev) {
    if (ev.type === 'test:diagnostic') {
      const m = /^(\w+) ([\d.]+)$/.exec(ev.message);
      if (m) this.nodeTotals.set(m[1], Number(m[2]));
      else if (ev.message.startsWith('Error')) this.lastLooseError = ev.message;
      return;
    }
    this.lastProgressAt = Date.now();
    const fileLevel = ev.nesting === 0 && ev.name === ev.file;
    if (fileLevel) {
      if (ev.type === 'test:complete') this.finishedFiles.add(ev.file);
      if (ev.type === 'test:fail') this.fileFailed(ev);
      return;
    }
    const stack = this.stacks.get(ev.file) ?? [];
    this.stacks.set(ev.file, stack);
    if (ev.type === 'test:start') {
      stack.length = ev.nesting;
      stack[ev.nesting] = ev.name;
      this.runningIn(ev.file).add(this.path(ev));
      return;
    }
    const path = this.path(ev);
    this.runningIn(ev.file).delete(path);
    if (ev.suite && ev.skip !== undefined) {
      this.skipped.push({ path, reason: ev.skip, suite: true });
      return;
    }
    if (ev.suite) {
      // A suite fails when a test in it fails: that test is listed. A failure of the suite's
      // own (a hook, a throw in its body) is listed under the suite's name.
      if (ev.type === 'test:fail' && ev.failureType !== 'subtestsFailed') this.recordFailure(ev, path);
      return;
    }
    if (ev.type === 'test:fail') {
      if (ev.failureType !== 'subtestsFailed') this.recordFailure(ev, path);
    } else if (ev.skip !== undefined) {
      this.skipped.push({ path, reason: ev.skip });
    } else if (ev.todo !== undefined) {
      this.todo++;
    } else {
      this.passed++;
    }
  }

  runningIn(file) {
    const set = this.running.get(file) ?? new Set();
    this.running.set(file, set);
    return set;
  }

  path(ev) {
    const stack = this.stacks.get(ev.file) ?? [];
    return [this.show(ev.file), ...stack.slice(0, ev.nesting), ev.name].join(' › ');
  }

  show(file) {
    return file ? relative(this.root, file) : '(unknown file)';
  }

  recordFailure(ev, path) {
    const entry = { path, line: ev.line, error: ev.error || ev.failureType || 'failed' };
    (cancelTypes.has(ev.failureType) ? this.cancelled : this.failed).push(entry);
  }

  /**
   * A file's own failure: listed by file unless a failed test in it explains it. An error caught
   * outside any test is reported just before its file fails, as a diagnostic without a file.
   */
  fileFailed(ev) {
    this.finishedFiles.add(ev.file);
    const shown = this.show(ev.file);
    const listed = [...this.failed, ...this.cancelled].some((f) => f.path.startsWith(`${shown} › `));
    const loose = this.lastLooseError;
    this.lastLooseError = undefined;
    if (ev.failureType === 'subtestsFailed' && listed) return;
    const ended = ev.signal ? `was killed by ${ev.signal}` : `exited with code ${ev.exitCode ?? '?'}`;
    const why =
      ev.error && ev.error !== 'test failed' ? `${ev.error} (the test process ${ended})` : undefined;
    const error = why ?? (loose ? `${loose} (the test process ${ended})` : `the test process ${ended}`);
    // Tests that had started and never ended are the ones the process died in.
    const running = [...(this.running.get(ev.file) ?? [])];
    this.running.delete(ev.file);
    for (const path of running.length > 0 ? running : [shown]) {
      this.recordFailure({ ...ev, line: undefined, error }, path);
    }
  }

  /** Marks every test still running, and every file that did not report its end, as cancelled. */
  markUnfinished(reason) {
    for (const file of this.files) {
      if (this.finishedFiles.has(file) && (this.running.get(file)?.size ?? 0) === 0) continue;
      const running = [...(this.running.get(file) ?? [])];
      if (running.length === 0) this.cancelled.push({ path: this.show(file), error: reason });
      for (const path of running) this.cancelled.push({ path, error: reason });
    }
  }

  /** A failure of the run itself, not of one test (the runner exited with an error). */
  addRunFailure(error) {
    this.failed.push({ path: '(test runner)', error });
  }

  /** The closing summary; the last line is `N passed, N failed, N skipped`. */
  format() {
    const out = ['', '━━━━ test summary ━━━━'];
    const list = (title, entries, mark) => {
      if (entries.length === 0) return;
      out.push(`${title} (${entries.length}):`);
      for (const e of entries) {
        out.push(`  ${mark} ${e.path}${e.line ? ` (line ${e.line})` : ''}`);
        out.push(`      ${e.error}`);
      }
    };
    list('FAILED', this.failed, '✖');
    list('CANCELLED', this.cancelled, '⊘');
    if (this.skipped.length > 0) {
      const suites = this.skipped.filter((s) => s.suite).length;
      out.push(`skipped (${this.skipped.length}${suites > 0 ? `, ${suites} of them whole suites` : ''}):`);
      for (const s of this.skipped) out.push(`  - ${s.path}${s.reason ? ` — ${s.reason}` : ''}`);
    }
    const failed = this.failed.length + this.cancelled.length;
    const node = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']
      .filter((k) => this.nodeTotals.has(k))
      .map((k) => `${k} ${this.nodeTotals.get(k)}`);
    out.push(
      `totals: ${this.passed} passed, ${this.failed.length} failed, ${this.cancelled.length} cancelled, ` +
        `${this.skipped.length} skipped, ${this.todo} todo` +
        (node.length > 0 ? ` (node: ${node.join(', ')})` : ' (node reported no totals)'),
    );
    out.push(
      failed > 0
        ? `result: FAIL (${failed} failed or cancelled, listed above)`
        : this.ran
          ? 'result: PASS'
          : 'result: FAIL (no test ran)',
    );
    out.push(`${this.passed} passed, ${failed} failed, ${this.skipped.length} skipped`);
    return out.join('\n');
  }

  /** Whether any test ran (passed, failed, was cancelled or skipped). */
  get ran() {
    return this.passed + this.failed.length + this.cancelled.length + this.skipped.length + this.todo > 0;
  }

  /** Nothing failed or was cancelled, and something ran: a run of no tests is not a pass. */
  get ok() {
    return this.failed.length === 0 && this.cancelled.length === 0 && this.ran;
  }
}
