/**
 * Keeps docs/protocol.md honest: every frame body has an example, every error and close code
 * is documented with the values from the tables in errors.ts, and every JSON example is a
 * frame exactly as the codec writes it.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { decodeFrame, encodeFrame } from './codec.js';
import { CloseCodes, ErrorCodes } from './errors.js';
import { FrameSchema } from './gen/parley/v1/parley_pb.js';
import { SUPPORTED_VERSIONS, subprotocolName } from './version.js';

const doc = readFileSync(new URL('../../../../docs/protocol.md', import.meta.url), 'utf8');

interface JsonBlock {
  line: number;
  text: string;
}

function jsonBlocks(markdown: string): JsonBlock[] {
  const blocks: JsonBlock[] = [];
  for (const m of markdown.matchAll(/^```json[ \t]*\n([\s\S]*?)^```[ \t]*$/gm)) {
    blocks.push({ line: markdown.slice(0, m.index).split('\n').length, text: m[1] ?? '' });
  }
  return blocks;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const bodyOneof = FrameSchema.oneofs.find((o) => o.name === 'body');
assert.ok(bodyOneof, 'Frame has a body oneof');
const bodyFields = bodyOneof.fields;
const bodyKeys = new Set(bodyFields.flatMap((f) => [f.jsonName, f.name]));

const blocks = jsonBlocks(doc).map((b) => {
  try {
    return { ...b, value: JSON.parse(b.text) as unknown, error: undefined };
  } catch (err) {
    return { ...b, value: undefined, error: (err as Error).message };
  }
});
const frames = blocks.filter(
  (b) => isObject(b.value) && Object.keys(b.value).some((k) => k === 'id' || bodyKeys.has(k)),
);

describe('docs/protocol.md', () => {
  test('every json block parses', () => {
    assert.ok(blocks.length > 0, 'no ```json blocks found');
    assert.ok(frames.length > 0, 'no frame examples found');
    for (const b of blocks) {
      assert.equal(b.error, undefined, `docs/protocol.md:${b.line}: json block does not parse: ${b.error}`);
    }
  });

  test('every Frame body case appears as a key in an example', () => {
    const used = new Set(frames.flatMap((b) => Object.keys(b.value as object)));
    const missing = bodyFields.filter((f) => !used.has(f.jsonName)).map((f) => f.jsonName);
    assert.deepEqual(missing, [], `frame bodies without an example: ${missing.join(', ')}`);
  });

  test('every frame example decodes and is exactly what the codec writes', () => {
    for (const b of frames) {
      const where = `docs/protocol.md:${b.line}`;
      const frame = decodeFrame(JSON.stringify(b.value), 'json');
      assert.ok(frame.body.case !== undefined, `${where}: frame example has no body`);
      const canonical: unknown = JSON.parse(encodeFrame(frame, 'json') as string);
      assert.deepEqual(b.value, canonical, `${where}: example differs from the codec's JSON`);
    }
  });

  test('every error code is in the error table with its http status and retryability', () => {
    const rows = new Map<string, string[]>();
    for (const m of doc.matchAll(/^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|(.*)\|\s*$/gm)) {
      const cells = (m[2] ?? '').split('|').map((c) => c.trim());
      if (/^\d{3}$/.test(cells[0] ?? '')) rows.set(m[1] ?? '', cells);
    }
    for (const [code, spec] of Object.entries(ErrorCodes)) {
      const cells = rows.get(code);
      assert.ok(cells, `error code ${code} is not in the error table`);
      assert.equal(cells[0], String(spec.http), `${code}: http status`);
      assert.equal(cells[1], spec.retryable ? 'yes' : 'no', `${code}: retryable`);
    }
    const unknown = [...rows.keys()].filter((code) => !Object.hasOwn(ErrorCodes, code));
    assert.deepEqual(unknown, [], `error table lists codes that errors.ts does not define`);
  });

  test('every close code is in the close code table', () => {
    for (const [name, code] of Object.entries(CloseCodes)) {
      assert.match(doc, new RegExp(`^\\|\\s*${code}\\s*\\|`, 'm'), `close code ${name} (${code}) is missing`);
    }
  });

  test('names every supported subprotocol', () => {
    for (const v of SUPPORTED_VERSIONS) {
      for (const enc of ['proto', 'json'] as const) {
        const name = subprotocolName(v, enc);
        assert.ok(doc.includes(`\`${name}\``), `subprotocol ${name} is not documented`);
      }
    }
  });
});
