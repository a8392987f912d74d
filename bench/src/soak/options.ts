/** The soak's flags: parsing, defaults and --help. Every value is checked here, at the edge. */

export interface SoakOptions {
  durationMs: number;
  devices: number;
  /** Messages per second, all devices together. */
  rate: number;
  /** Per-node warm-up excluded from the RSS comparison. */
  warmupMs: number;
  /** Each proxied connection is cut after a random time in this range. */
  cutMs: [number, number];
  /** The node is restarted (SIGTERM and SIGKILL in turn) after a random time in this range. */
  restartMs: [number, number];
  /** Largest extra delay per chunk through the proxy. */
  jitterMs: number;
  workers: number;
  payloadBytes: number;
  /** Longest wait, after the faults stop, for every acked message to arrive. */
  drainMs: number;
  maxRssGrowth: number;
  seed: number;
  keep: boolean;
  /** The node acks sends before committing them (a test-only setting): the loss check must fail. */
  negativeControl: boolean;
}

export const HELP = `Usage: npm run soak -- [flags]

A soak of one Parley node: devices (the real SDK) chat in 1:1 and small groups through a
fault-injecting TCP proxy (delay jitter, stalls, connection cuts) while the node is restarted
with SIGTERM and SIGKILL in turn. Then it checks: no acked message lost, no duplicate shown,
per-chat order, and node RSS growth. Exit code 1 on any FAIL. Only 127.0.0.1 is used.

Flags:
  --duration <t>        how long to chat, e.g. 30m, 3m, 90s           default 30m
  --devices <n>         devices (one per user)                        default 1000
  --rate <n>            messages per second, all devices together     default 300
  --warmup <t>          per-node warm-up left out of the RSS check    default 5m, at most 1/3 of --duration
  --cut <t>-<t>         cut each connection after a random time       default 10s-60s
  --restart <t>-<t>     restart the node after a random time          default 2m-5m
                        (none in the last warm-up + 1-3 min: that life is measured)
  --jitter <t>          largest delay added to a chunk                default 40ms
  --workers <n>         client processes                              default 2
  --payload <bytes>     payload size                                  default 120
  --drain <t>           longest wait for stragglers after the faults  default 120s
  --max-rss-growth <f>  allowed RSS growth as a fraction              default 0.10
  --seed <n>            seed of the chat layout and the faults        default: random
  --keep                keep the data dir and the node's log
  --negative-control    run the node with unsafeAckBeforeCommit, so a SIGKILL loses acked
                        messages: proves the loss check catches loss (the soak must FAIL)
`;

/** Parses "30m", "90s", "250ms", "1h" or a bare number of seconds into milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new Error(`${flag}: expected a duration like 30m, 90s or 250ms, got "${text}"`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

function parseRange(text: string, flag: string): [number, number] {
  const parts = text.split('-');
  if (parts.length !== 2) throw new Error(`${flag}: expected a range like 10s-60s, got "${text}"`);
  const lo = parseDuration(parts[0]!, flag);
  const hi = parseDuration(parts[1]!, flag);
  if (lo <= 0 || hi < lo) throw new Error(`${flag}: the range must be positive and ascending`);
  return [lo, hi];
}

function parseCount(text: string, flag: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: an integer ${min}..${max}`);
  return n;
}

const count = (min: number, max: number) => (v: string, flag: string) => parseCount(v, flag, min, max);

/** Flags that take a value: the option they set and how the value is read. */
const valueFlags: Record<string, [keyof SoakOptions, (value: string, flag: string) => unknown]> = {
  '--duration': ['durationMs', parseDuration],
  '--devices': ['devices', count(4, 20_000)],
  '--rate': ['rate', count(1, 5000)],
  '--warmup': ['warmupMs', parseDuration],
  '--cut': ['cutMs', parseRange],
  '--restart': ['restartMs', parseRange],
  '--jitter': ['jitterMs', (v, flag) => parseDuration(/[a-z]$/.test(v) ? v : `${v}ms`, flag)],
  '--workers': ['workers', count(1, 16)],
  '--payload': ['payloadBytes', count(32, 60_000)],
  '--drain': ['drainMs', parseDuration],
  '--max-rss-growth': ['maxRssGrowth', parseFraction],
  '--seed': ['seed', count(0, 2 ** 31)],
};

function parseFraction(v: string, flag: string): number {
  const x = Number(v);
  if (!(x > 0)) throw new Error(`${flag}: a positive fraction, e.g. 0.1`);
  return x;
}

export function parseSoakArgs(argv: readonly string[]): SoakOptions | 'help' {
  const o: SoakOptions = {
    durationMs: 30 * 60_000,
    devices: 1000,
    rate: 300,
    warmupMs: Number.NaN, // set below from the duration unless given
    cutMs: [10_000, 60_000],
    restartMs: [120_000, 300_000],
    jitterMs: 40,
    workers: 2,
    payloadBytes: 120,
    drainMs: 120_000,
    maxRssGrowth: 0.1,
    seed: Math.floor(Math.random() * 2 ** 31),
    keep: false,
    negativeControl: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag === '--keep' || flag === '--negative-control') {
      if (flag === '--keep') o.keep = true;
      else o.negativeControl = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag}: missing value`);
    const setting = valueFlags[flag];
    if (!setting) throw new Error(`unknown flag ${flag} (see --help)`);
    (o as unknown as Record<string, unknown>)[setting[0]] = setting[1](value, flag);
  }
  if (o.durationMs < 10_000) throw new Error('--duration: at least 10s');
  if (Number.isNaN(o.warmupMs)) o.warmupMs = Math.min(300_000, o.durationMs / 3);
  if (o.devices < o.workers * 4) throw new Error('--devices: at least 4 per worker');
  return o;
}
