/**
 * Prometheus metrics of one node, in a registry of its own (several nodes can run in one
 * process). Labels are bounded sets: frame types from the schema, error codes from the
 * error table, bus operations, SMS providers and outcomes. Never a user, chat or device id.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Counts per frame type in plain numbers, handed to the Prometheus counter when it is read
 * (its `collect`): a frame costs one map update, not prom-client's label lookup.
 */
export class FrameCounter {
  private readonly pending = new Map<string, number>();

  /** Registers the Prometheus counter `name`, labelled by frame type, that these counts feed. */
  constructor(name: string, help: string, registers: Registry[]) {
    const frames = this;
    new Counter({
      name,
      help,
      labelNames: ['type'],
      registers,
      collect() {
        frames.flush(this);
      },
    });
  }

  inc(type: string): void {
    this.pending.set(type, (this.pending.get(type) ?? 0) + 1);
  }

  /** Adds the counts since the last read to `counter`. */
  private flush(counter: Counter<'type'>): void {
    for (const [type, n] of this.pending) counter.inc({ type }, n);
    this.pending.clear();
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly connections: Gauge;
  /** Frames in and out by type (parley_frames_in_total / parley_frames_out_total). */
  readonly frameIn: FrameCounter;
  readonly frameOut: FrameCounter;
  readonly sends: Counter;
  readonly commitBatch: Histogram;
  readonly commitSeconds: Histogram;
  readonly sendToDelivery: Histogram;
  readonly pendingDepth: Gauge;
  readonly directoryChats: Gauge;
  readonly directoryLoading: Gauge;
  readonly calls: Gauge;
  readonly busSeconds: Histogram<'op'>;
  readonly busErrors: Counter<'op'>;
  readonly errors: Counter<'code'>;
  readonly serverCloses: Counter<'code'>;
  readonly smsSends: Counter<'provider' | 'outcome'>;
  readonly smsSeconds: Histogram<'provider'>;

  constructor(
    options: {
      pending?: () => number;
      directory?: () => { chats: number; loading: boolean };
      calls?: () => number;
      defaults?: boolean;
    } = {},
  ) {
    const registers = [this.registry];
    if (options.defaults !== false) collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    this.connections = new Gauge({
      name: 'parley_connections',
      help: 'WebSocket connections open on this node',
      registers,
    });
    this.frameIn = new FrameCounter('parley_frames_in_total', 'Frames received, by body type', registers);
    this.frameOut = new FrameCounter('parley_frames_out_total', 'Frames sent, by body type', registers);
    this.sends = new Counter({ name: 'parley_sends_total', help: 'Messages committed', registers });
    this.commitBatch = new Histogram({
      name: 'parley_commit_batch_size',
      help: 'Sends per store commit (group commit)',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096],
      registers,
    });
    this.commitSeconds = new Histogram({
      name: 'parley_commit_seconds',
      help: 'Time of one store commit of a batch of sends',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.sendToDelivery = new Histogram({
      name: 'parley_send_to_delivery_seconds',
      help: 'From the server time of a message to its live delivery to a device on this node',
      buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    const pending = options.pending;
    this.pendingDepth = new Gauge({
      name: 'parley_pending_deliveries',
      help: 'Messages delivered to connected devices on this node and not yet acknowledged',
      registers,
      collect() {
        if (pending) this.set(pending());
      },
    });
    const directory = options.directory;
    this.directoryChats = new Gauge({
      name: 'parley_directory_chats',
      help: 'Chats whose membership this node holds in memory',
      registers,
      collect() {
        if (directory) this.set(directory().chats);
      },
    });
    this.directoryLoading = new Gauge({
      name: 'parley_directory_loading',
      help: '1 while the node loads chat membership into memory after its start, else 0',
      registers,
      collect() {
        if (directory) this.set(directory().loading ? 1 : 0);
      },
    });
    const calls = options.calls;
    this.calls = new Gauge({
      name: 'parley_calls',
      help: 'Calls ringing or connected whose home is this node',
      registers,
      collect() {
        if (calls) this.set(calls());
      },
    });
    this.busSeconds = new Histogram({
      name: 'parley_bus_seconds',
      help: 'Round trips to the bus, by operation',
      labelNames: ['op'],
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5],
      registers,
    });
    this.busErrors = new Counter({
      name: 'parley_bus_errors_total',
      help: 'Failed bus operations, by operation',
      labelNames: ['op'],
      registers,
    });
    this.errors = new Counter({
      name: 'parley_errors_total',
      help: 'Error answers sent, by code',
      labelNames: ['code'],
      registers,
    });
    this.serverCloses = new Counter({
      name: 'parley_ws_server_closes_total',
      help: 'WebSocket connections the server closed, by close code (4008 heartbeat, 4009 slow consumer, ...)',
      labelNames: ['code'],
      registers,
    });
    this.smsSends = new Counter({
      name: 'parley_sms_sends_total',
      help: 'Registration codes handed to the SMS provider, by provider and outcome (sent, refused, unavailable, error)',
      labelNames: ['provider', 'outcome'],
      registers,
    });
    this.smsSeconds = new Histogram({
      name: 'parley_sms_send_seconds',
      help: 'Time to hand one code to the SMS provider, retries included, by provider',
      labelNames: ['provider'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20],
      registers,
    });
  }

  /** Times a bus call and counts its failures. */
  async bus<T>(op: string, call: () => Promise<T>): Promise<T> {
    const end = this.busSeconds.startTimer({ op });
    try {
      return await call();
    } catch (err) {
      this.busErrors.inc({ op });
      throw err;
    } finally {
      end();
    }
  }

  /** The text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
