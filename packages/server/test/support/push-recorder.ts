/**
 * A PushProvider test double: records every push it is handed and answers with scripted
 * outcomes (then `sent`). Real providers, each tested against a local server speaking its
 * protocol, replace it in a deployment.
 */
import type {
  PushOutcome,
  PushPayload,
  PushPlatform,
  PushProvider,
  PushTarget,
} from '../../src/ports/push.js';

export interface RecordedPush {
  target: PushTarget;
  payload: PushPayload;
  outcome: PushOutcome;
}

export class PushRecorder implements PushProvider {
  readonly pushes: RecordedPush[] = [];
  private readonly script: PushOutcome[] = [];
  closed = false;

  constructor(readonly platform: PushPlatform = 'fcm') {}

  /** The next answers, in order; after them every push is `sent`. */
  answer(...outcomes: PushOutcome[]): void {
    this.script.push(...outcomes);
  }

  /** Pushes recorded for one device. */
  to(deviceId: string): RecordedPush[] {
    return this.pushes.filter((p) => p.payload.deviceId === deviceId);
  }

  reset(): void {
    this.pushes.length = 0;
    this.script.length = 0;
  }

  async send(target: PushTarget, payload: PushPayload): Promise<PushOutcome> {
    const outcome = this.script.shift() ?? {
      kind: 'sent',
      status: 200,
      providerId: `p${this.pushes.length + 1}`,
    };
    this.pushes.push({ target, payload, outcome });
    return outcome;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
