// Regenerates packages/protocol/src/gen from proto/ with buf + protoc-gen-es.
// `--verify` regenerates into a temporary copy and fails if the committed code differs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'node_modules/.bin');
const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
const genDir = join(root, 'packages/protocol/src/gen');
const verify = process.argv.includes('--verify');

if (!verify) {
  execFileSync(join(bin, 'buf'), ['generate'], { cwd: root, env, stdio: 'inherit' });
  console.log('generated', genDir);
} else {
  const out = mkdtempSync(join(tmpdir(), 'parley-gen-'));
  try {
    execFileSync(join(bin, 'buf'), ['generate', '--output', out], { cwd: root, env, stdio: 'inherit' });
    const fresh = join(out, 'packages/protocol/src/gen');
    const stale = [];
    for (const f of readdirSync(fresh, { recursive: true })) {
      if (!String(f).endsWith('.ts')) continue;
      let committed = '';
      try {
        committed = readFileSync(join(genDir, f), 'utf8');
      } catch {}
      if (committed !== readFileSync(join(fresh, f), 'utf8')) stale.push(f);
    }
    if (stale.length) {
      console.error(`generated code is out of date (${stale.join(', ')}): run npm run generate`);
      process.exit(1);
    }
    console.log('generated code is up to date');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}
