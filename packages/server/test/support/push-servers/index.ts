/**
 * Local push services that speak each provider's real protocol and check the real request, for
 * the providers' tests and the push pipeline's end-to-end tests. Each `start…()` listens on
 * 127.0.0.1 port 0 and resolves to a server with:
 *
 * - `url`: its origin (`https://…` for APNs, whose `cert` the client must trust as `ca`; `http://…`
 *   for the others).
 * - `received[]`: every request that passed the checks, decoded (APNs headers and JSON body, the FCM
 *   message, the DECRYPTED Web Push payload, the webhook body), in arrival order, with its `token`.
 * - `problems[]`: every check that failed (bad JWT or signature, wrong headers, undecryptable body);
 *   such a request is answered as the provider would and not recorded in `received`. Assert it empty.
 * - `setAnswer(token, answer)`: what to answer for one token (`PushTestAnswer`: ok, invalid-token,
 *   bad-token, rate-limited with Retry-After, server-error 500/503, hang, auth-expired-once, or any
 *   status); tokens never set get success.
 * - `close()`: stops it, dropping requests left hanging.
 *
 * What a "token" is per server: the APNs device token, the FCM registration token, the Web Push
 * subscription id (from `subscribe()`, which also returns the endpoint and browser keys), the
 * webhook URL's last segment (`hookUrl(id)`).
 *
 * ```ts
 * const apns = await startApnsServer({ keyId, teamId, publicKey });     // also: cert, sessions, goaway()
 * const fcm = await startFcmServer();                                   // also: serviceAccountJson, revokeAccessTokens()
 * const web = await startWebPushServer({ vapidPublicKey });             // also: subscribe()
 * const hook = await startWebhookServer({ secret });                    // also: hookUrl(id)
 * apns.setAnswer('a1b2', { kind: 'rate-limited', retryAfterSeconds: 7 });
 * ```
 * `testApnsKey()` makes a .p8-like key with ids to configure both sides with.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';

export type { PushTestAnswer } from './answers.js';
export { type ApnsReceived, type ApnsTestServer, startApnsServer } from './apns-server.js';
export { decryptWebPush, newSubscriber, type Subscriber } from './ece.js';
export { type FcmReceived, type FcmTestServer, startFcmServer } from './fcm-server.js';
export { startWebhookServer, type WebhookReceived, type WebhookTestServer } from './webhook-server.js';
export { startWebPushServer, type WebPushReceived, type WebPushTestServer } from './webpush-server.js';

/** An APNs token-auth key as Apple hands it out (.p8 PEM), with a key id and team id. */
export function testApnsKey(): { keyId: string; teamId: string; pem: string; publicKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    keyId: 'ABC123DEFG',
    teamId: 'TEAM456XYZ',
    pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    publicKey,
  };
}
