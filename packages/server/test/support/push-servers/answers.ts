/**
 * The answers a local push server can be told to give for one token, in the provider-neutral
 * words the tests use. Each server turns them into its provider's real status and body.
 */
export type PushTestAnswer =
  /** Success: APNs 200 + apns-id, FCM 200 + name, Web Push 201 + Location, webhook 204. */
  | { kind: 'ok' }
  /** The token is gone: APNs 410 Unregistered, FCM 404 UNREGISTERED, Web Push 410, webhook 410. */
  | { kind: 'invalid-token' }
  /** A malformed token: APNs 400 BadDeviceToken, FCM 400 INVALID_ARGUMENT on message.token, Web Push 404. */
  | { kind: 'bad-token' }
  /** 429 with Retry-After (seconds) when given. */
  | { kind: 'rate-limited'; retryAfterSeconds?: number }
  /** 500 (default) or 503 with the provider's error body. */
  | { kind: 'server-error'; status?: 500 | 503; retryAfterSeconds?: number }
  /** Takes the request and never answers. */
  | { kind: 'hang' }
  /** Once: APNs 403 ExpiredProviderToken, FCM 401 (the access token is revoked); then `ok`. */
  | { kind: 'auth-expired-once' }
  /** Any status and body, as given. */
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> };

/** Per-token answers, `ok` for tokens never set. */
export class AnswerBook {
  private readonly answers = new Map<string, PushTestAnswer>();

  set(token: string, answer: PushTestAnswer): void {
    this.answers.set(token, answer);
  }

  /** The answer for `token`; a once-answer turns into `ok` after it is taken. */
  take(token: string): PushTestAnswer {
    const a = this.answers.get(token) ?? { kind: 'ok' };
    if (a.kind === 'auth-expired-once') this.answers.set(token, { kind: 'ok' });
    return a;
  }
}

export function retryAfterHeader(a: { retryAfterSeconds?: number }): Record<string, string> {
  return a.retryAfterSeconds === undefined ? {} : { 'retry-after': String(a.retryAfterSeconds) };
}

/** Reads a request body up to `cap` bytes (more is a problem the caller reports). */
export function readBody(req: NodeJS.ReadableStream, cap = 65_536): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= cap) chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Splits and decodes a compact JWS; undefined when malformed. */
export function decodeJwt(
  jwt: string,
):
  | { header: Record<string, unknown>; claims: Record<string, unknown>; input: string; signature: Buffer }
  | undefined {
  const parts = jwt.split('.');
  if (parts.length !== 3) return undefined;
  try {
    return {
      header: JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')),
      claims: JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')),
      input: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, 'base64url'),
    };
  } catch {
    return undefined;
  }
}
