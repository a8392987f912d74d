// A node:test reporter that writes one JSON line per event the runner's summary needs
// (test starts, passes, failures, skips, the closing totals). scripts/run-tests.mjs reads these
// lines from its own pipe while the tests run; the readable output comes from the spec reporter.
// Errors are reduced to their first line here, since Error objects do not survive JSON.

/** The first non-empty line of an error message; a line ending in ':' takes the next one along. */
export function firstLine(text) {
  const lines = String(text ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
  if (lines.length === 0) return '';
  return lines[0].endsWith(':') && lines.length > 1 ? `${lines[0]} ${lines[1]}` : lines[0];
}

function describeError(error) {
  if (!error) return { failureType: undefined, error: '' };
  const cause = error.cause;
  const detail = cause instanceof Error ? `${cause.name}: ${firstLine(cause.message)}` : firstLine(cause);
  // A test file's own failure carries how its process ended.
  const { exitCode, signal } = error;
  return { failureType: error.failureType, error: detail || firstLine(error.message), exitCode, signal };
}

function lineFor(type, data) {
  const base = { type, file: data.file, name: data.name, nesting: data.nesting, line: data.line };
  switch (type) {
    case 'test:start':
      return base;
    case 'test:complete':
      // Only a file's end: a passing file reports no test:pass of its own.
      return data.nesting === 0 && data.name === data.file ? base : undefined;
    case 'test:pass':
      return {
        ...base,
        suite: data.details?.type === 'suite',
        skip: data.skip === undefined ? undefined : data.skip === true ? '' : String(data.skip),
        todo: data.todo === undefined ? undefined : data.todo === true ? '' : String(data.todo),
      };
    case 'test:fail':
      return { ...base, suite: data.details?.type === 'suite', ...describeError(data.details?.error) };
    case 'test:diagnostic':
      // The closing totals, and errors caught outside any test ("Error: A resource generated
      // asynchronous activity after the test ended…"), are diagnostics without a file.
      return data.file === undefined && data.nesting === 0
        ? { type, message: firstLine(data.message) }
        : undefined;
    default:
      return undefined;
  }
}

export default async function* summaryReporter(source) {
  for await (const event of source) {
    const line = lineFor(event.type, event.data);
    if (line) yield `${JSON.stringify(line)}\n`;
  }
}
