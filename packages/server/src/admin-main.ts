/**
 * `parley admin`: moderation against the node's store directly (the same --store and
 * --data-dir as `parley serve`), so it works on a node that is running. Every action is
 * logged (pino, structured, to stderr; ids and counts, never message content) and recorded in
 * the store's audit table. Suspensions reach running nodes through the store: each node polls
 * for new ones every suspensionCheckMs and closes the account's sockets (moderation/suspension.ts).
 */
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { ParleyError } from '@parley/protocol';
import { loadConfig } from './config/load.js';
import { createLogger } from './log.js';
import type { ReportRecord, ReportStatus, Store } from './ports/store.js';
import type { DeviceId, UserId } from './ports/types.js';
import { describePushStatus, pushStatusReport } from './push/admin.js';

const HELP = `Usage: parley admin <subcommand> [options] [--store sqlite|postgres://...] [--data-dir DIR]

Moderation against the node's store (the same store settings as "parley serve": flags, then
PARLEY_* environment). Safe while nodes are running.

Subcommands:
  reports [--status open|resolved] [--limit N]   list reports, newest first (default 50)
  report <id>                                    show one report, with the messages its
                                                 reporter chose to disclose
  resolve <id> [--note TEXT]                     mark a report resolved
  suspend <user-id|+phone> [--reason TEXT]       suspend an account: its sockets close on
                                                 every node within suspensionCheckMs, and
                                                 logins are refused (ACCOUNT_SUSPENDED)
  unsuspend <user-id|+phone>                     lift a suspension
  stats                                          accounts, devices, chats, messages,
                                                 reports and suspended accounts
  audit [--limit N]                              the admin actions recorded, newest first
  push status --user <user-id|+phone>            each device's push registration (token
                                                 hash), online now (with --bus), pending
                                                 job, last attempts with the provider's
                                                 answers and latency, dead letters
  push retry [--user <user-id|+phone>]           re-queue dead-lettered pushes (of one
                                                 user, or all), due now

Options:
  --json     print JSON instead of text
  --help     this help
`;

interface Parsed {
  sub: string | undefined;
  arg: string | undefined;
  opts: Map<string, string | true>;
  storeArgv: string[];
}

const OWN_FLAGS = new Set(['status', 'limit', 'note', 'reason', 'json', 'user']);
const VALUE_FLAGS = new Set(['status', 'limit', 'note', 'reason', 'user']);

function parse(argv: readonly string[]): Parsed {
  const out: Parsed = { sub: undefined, arg: undefined, opts: new Map(), storeArgv: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq === -1 ? undefined : eq);
      if (OWN_FLAGS.has(name)) {
        if (!VALUE_FLAGS.has(name)) {
          out.opts.set(name, true);
          continue;
        }
        const value = eq === -1 ? argv[++i] : a.slice(eq + 1);
        if (value === undefined) throw new ParleyError('INVALID_ARGUMENT', `--${name} needs a value`);
        out.opts.set(name, value);
        continue;
      }
      // Store settings go to the config loader (which names any unknown flag).
      out.storeArgv.push(a);
      if (eq === -1 && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--'))
        out.storeArgv.push(argv[++i]!);
      continue;
    }
    if (out.sub === undefined) out.sub = a;
    else if (out.arg === undefined) out.arg = a;
    else throw new ParleyError('INVALID_ARGUMENT', `unexpected argument "${a}"`);
  }
  return out;
}

function limitOf(p: Parsed, fallback: number): number {
  const v = p.opts.get('limit');
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new ParleyError('INVALID_ARGUMENT', '--limit must be an integer from 1 to 10000');
  return n;
}

function textOpt(p: Parsed, name: string, max: number): string {
  const v = p.opts.get(name);
  if (v === undefined || v === true) return '';
  if (v.length > max) throw new ParleyError('INVALID_ARGUMENT', `--${name} is at most ${max} characters`);
  return v;
}

async function openStore(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<Store> {
  const config = loadConfig({ env, argv });
  if (config.store === 'sqlite') {
    const { SqliteStore } = await import('./adapters/store/sqlite/sqlite-store.js');
    return new SqliteStore({ path: join(resolve(config.dataDir), 'parley.db'), synchronous: 'FULL' });
  }
  const { PostgresStore } = await import('./adapters/store/postgres/postgres-store.js');
  return PostgresStore.open(config.store, {
    poolSize: 2,
    allowUnsafeDurability: config.allowUnsafeDurability,
  });
}

/** A user id, or the account of an E.164 number; USER_NOT_FOUND otherwise. */
async function resolveUser(store: Store, who: string | undefined): Promise<{ id: UserId; phone: string }> {
  if (!who) throw new ParleyError('INVALID_ARGUMENT', 'name a user id or a +phone number');
  const user = who.startsWith('+') ? await store.userByPhone(who) : await store.userGet(who as UserId);
  if (!user) throw new ParleyError('USER_NOT_FOUND', `no account ${who}`);
  return { id: user.id, phone: user.phone };
}

/** "+15551234567 (u_…)" where the account still exists, the bare id otherwise. */
async function nameOf(store: Store, cache: Map<string, string>, id: string | undefined): Promise<string> {
  if (!id) return '-';
  let n = cache.get(id);
  if (n === undefined) {
    const u = await store.userGet(id as UserId);
    n = u ? `${u.phone} (${id})` : `${id} (deleted)`;
    cache.set(id, n);
  }
  return n;
}

/** Runs `fn` with a way to locate devices on the bus, when the config names one. */
async function withBus<T>(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  fn: (online: ((ids: DeviceId[]) => Promise<Set<DeviceId>>) | undefined) => Promise<T>,
): Promise<T> {
  const config = loadConfig({ env, argv });
  if (config.bus === 'local') return fn(undefined);
  const { RedisBus } = await import('./adapters/bus/redis/redis-bus.js');
  const bus = await RedisBus.open({ nodeId: `admin-${process.pid}`, url: config.bus, onError: () => {} });
  try {
    return await fn(async (ids) => new Set((await bus.locate(ids)).keys()));
  } finally {
    await bus.close();
  }
}

const iso = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString());

export async function adminMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h') || argv.length === 0) {
    (argv.length === 0 ? process.stderr : process.stdout).write(HELP);
    return argv.length === 0 ? 2 : 0;
  }
  let store: Store | undefined;
  const log = createLogger(env.PARLEY_LOG_LEVEL || 'info', 2);
  try {
    const p = parse(argv);
    const json = p.opts.has('json');
    const out = (value: unknown, text: string) =>
      process.stdout.write(
        json ? `${JSON.stringify(value, null, 2)}\n` : text.endsWith('\n') ? text : `${text}\n`,
      );
    const actor = env.PARLEY_ADMIN_ACTOR || safeUser();
    const subs = ['reports', 'report', 'resolve', 'suspend', 'unsuspend', 'stats', 'audit', 'push'];
    if (!p.sub || !subs.includes(p.sub))
      throw new ParleyError(
        'INVALID_ARGUMENT',
        `unknown subcommand "${p.sub ?? ''}"; run "parley admin --help"`,
      );
    store = await openStore(p.storeArgv, env);
    const names = new Map<string, string>();
    const audit = async (action: string, target: string, detail: Record<string, unknown>) => {
      await store!.auditRecord({ at: Date.now(), actor, action, target, detail });
      log.info({ admin: actor, action, target, ...detail }, 'admin action');
    };
    switch (p.sub) {
      case 'reports': {
        const status = p.opts.get('status');
        if (status !== undefined && status !== 'open' && status !== 'resolved')
          throw new ParleyError('INVALID_ARGUMENT', '--status must be open or resolved');
        const list = await store.reportsList({
          ...(status && { status: status as ReportStatus }),
          limit: limitOf(p, 50),
        });
        const rows: string[] = [];
        for (const r of list) {
          rows.push(
            `${r.id}  ${r.status.padEnd(8)}  ${iso(r.createdAt)}  ${r.reason.padEnd(13)}  by ${await nameOf(store, names, r.reporterUserId)}  about ${await nameOf(store, names, r.targetUserId)}${r.chatId ? `  chat ${r.chatId}` : ''}  messages ${r.messages.length}`,
          );
        }
        out(
          list.map((r) => ({ ...r, messages: r.messages.length })),
          rows.length ? rows.join('\n') : 'no reports',
        );
        return 0;
      }
      case 'report': {
        if (!p.arg) throw new ParleyError('INVALID_ARGUMENT', 'name a report id');
        const r = await store.reportGet(p.arg);
        if (!r) throw new ParleyError('NOT_FOUND', `no report ${p.arg}`);
        out(r, await describeReport(store, names, r));
        return 0;
      }
      case 'resolve': {
        if (!p.arg) throw new ParleyError('INVALID_ARGUMENT', 'name a report id');
        const note = textOpt(p, 'note', 500);
        if (!(await store.reportGet(p.arg))) throw new ParleyError('NOT_FOUND', `no report ${p.arg}`);
        const changed = await store.reportResolve(p.arg, Date.now(), note);
        if (changed) await audit('resolve', p.arg, { note: note.length > 0 });
        out(
          { reportId: p.arg, resolved: true, changed },
          changed ? `resolved ${p.arg}` : `${p.arg} was already resolved`,
        );
        return 0;
      }
      case 'suspend': {
        const reason = textOpt(p, 'reason', 500);
        const user = await resolveUser(store, p.arg);
        const changed = await store.userSuspend(user.id, Date.now(), reason);
        if (changed) await audit('suspend', user.id, { reason });
        out(
          { userId: user.id, phone: user.phone, suspended: true, changed },
          changed
            ? `suspended ${user.phone} (${user.id}); running nodes close its connections within their suspensionCheckMs`
            : `${user.phone} (${user.id}) was already suspended`,
        );
        return 0;
      }
      case 'unsuspend': {
        const user = await resolveUser(store, p.arg);
        const changed = await store.userUnsuspend(user.id);
        if (changed) await audit('unsuspend', user.id, {});
        out(
          { userId: user.id, phone: user.phone, suspended: false, changed },
          changed ? `unsuspended ${user.phone} (${user.id})` : `${user.phone} (${user.id}) was not suspended`,
        );
        return 0;
      }
      case 'push': {
        const user = p.opts.has('user') ? await resolveUser(store, String(p.opts.get('user'))) : undefined;
        if (p.arg === 'retry') {
          const devices = await store.pushDeadRetry(user?.id, Date.now());
          await audit('push-retry', user?.id ?? '*', { devices });
          out({ userId: user?.id, devices }, `re-queued the dead letters of ${devices} device(s)`);
          return 0;
        }
        if (p.arg !== 'status') throw new ParleyError('INVALID_ARGUMENT', 'push status or push retry');
        if (!user) throw new ParleyError('INVALID_ARGUMENT', 'push status needs --user <user-id|+phone>');
        const list = await withBus(p.storeArgv, env, (online) => pushStatusReport(store!, user.id, online));
        out(
          { userId: user.id, phone: user.phone, devices: list },
          describePushStatus(`${user.phone} (${user.id})`, list),
        );
        return 0;
      }
      case 'stats': {
        const s = await store.adminStats();
        out(
          s,
          [
            `accounts   ${s.accounts}`,
            `devices    ${s.devices}`,
            `chats      ${s.chats}`,
            `messages   ${s.messages}`,
            `reports    ${s.reports} (${s.openReports} open)`,
            `suspended  ${s.suspended}`,
          ].join('\n'),
        );
        return 0;
      }
      default: {
        const list = await store.auditList(limitOf(p, 50));
        out(
          list,
          list.length
            ? list
                .map((e) => `${iso(e.at)}  ${e.actor}  ${e.action}  ${e.target}  ${JSON.stringify(e.detail)}`)
                .join('\n')
            : 'no admin actions recorded',
        );
        return 0;
      }
    }
  } catch (err) {
    if (err instanceof ParleyError) {
      const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
      process.stderr.write(`parley admin: ${err.message}${cause}\n`);
      return err.code === 'INVALID_ARGUMENT' ? 2 : 1;
    }
    throw err;
  } finally {
    await store?.close();
  }
}

async function describeReport(store: Store, names: Map<string, string>, r: ReportRecord): Promise<string> {
  const lines = [
    `report    ${r.id}`,
    `status    ${r.status}${r.resolvedAt !== undefined ? ` at ${iso(r.resolvedAt)}${r.resolution ? ` (${r.resolution})` : ''}` : ''}`,
    `created   ${iso(r.createdAt)}`,
    `reason    ${r.reason}`,
    `reporter  ${await nameOf(store, names, r.reporterUserId)}`,
    `about     ${await nameOf(store, names, r.targetUserId)}`,
    `chat      ${r.chatId ?? '-'}`,
    `detail    ${r.detail || '-'}`,
    `messages  ${r.messages.length} disclosed by the reporter`,
  ];
  for (const m of r.messages) {
    lines.push(`  #${m.seq}  ${iso(m.serverTime)}  ${await nameOf(store, names, m.senderUserId)}: ${m.text}`);
  }
  return lines.join('\n');
}

function safeUser(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}
