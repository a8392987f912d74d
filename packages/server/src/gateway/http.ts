/**
 * The HTTP routes: registration, the registration lock, linking, devices, socket tickets, account
 * deletion, media, the Web Push key, health, metrics and the OpenAPI document. Each declares its schemas (http-schemas.ts), which
 * validate the request before the handler runs; a handler throws and the error handler
 * (http-errors.ts) answers.
 */
import { Readable } from 'node:stream';
import { ParleyError } from '@parley/protocol';
import type { FastifyInstance, FastifyReply, FastifyRequest, preParsingAsyncHookHandler } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AccountService } from '../account/service.js';
import { assertMayChangePin, type RegistrationLockService } from '../auth/registration-lock.js';
import type { AuthService } from '../auth/service.js';
import type { Download, MediaService } from '../media/service.js';
import { MEDIA_ID_HEADER, type ResumableUploads, UPLOADS_PATH } from '../media/uploads.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Device, DeviceId } from '../ports/types.js';
import { clientAddress } from './client-address.js';
import { errorJson } from './errors.js';
import { routeOf } from './http-errors.js';
import * as s from './http-schemas.js';
import { timedBody } from './http-util.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The device whose bearer token the request carried (routes that require one). */
    device: Device | null;
  }
}

export interface HttpDeps {
  auth: AuthService;
  account: AccountService;
  registrationLock: RegistrationLockService;
  media: MediaService;
  uploads: ResumableUploads;
  metrics: Metrics;
  ready: () => Promise<boolean>;
  /** The VAPID public key (base64url) when Web Push is on; browsers subscribe with it. */
  webPushPublicKey: string | undefined;
  /** A JSON body must arrive whole, and a media body must not stall, within this time. */
  bodyTimeoutMs: number;
}

/** Largest JSON request body. */
const JSON_BODY_LIMIT = 16 * 1024;

const errors = { default: s.errorAnswer };
const bearer = [{ bearer: [] }];

export function httpRoutes(d: HttpDeps): FastifyPluginAsyncZod {
  const { auth } = d;

  async function requireDevice(request: FastifyRequest): Promise<void> {
    const h = request.headers.authorization;
    request.device =
      (await auth.authenticate(h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined)) ?? null;
    if (!request.device) throw new ParleyError('UNAUTHENTICATED', 'missing, invalid or revoked device token');
  }

  /** A JSON body must arrive whole within the body timeout; a media body must not stall longer. */
  const jsonBodyDeadline: preParsingAsyncHookHandler = async (_request, _reply, payload) =>
    timedBody(payload, d.bodyTimeoutMs, d.bodyTimeoutMs);
  const streamBodyDeadline: preParsingAsyncHookHandler = async (_request, _reply, payload) =>
    timedBody(payload, d.bodyTimeoutMs);

  /** Bodies are read as JSON whatever their content-type says (as clients always could send them). */
  function readsJson(scope: FastifyInstance): void {
    const parse = scope.getDefaultJsonParser('error', 'error');
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: JSON_BODY_LIMIT }, (req, body, done) =>
      body === '' ? done(null, undefined) : parse(req, body as string, done),
    );
    scope.addHook('preParsing', jsonBodyDeadline);
  }

  const operations: FastifyPluginAsyncZod = async (app) => {
    const tags = ['operations'];
    app.get(
      '/healthz',
      { schema: { tags, summary: 'The process runs', response: { 200: s.statusAnswer } } },
      () => ({
        status: 'ok' as const,
      }),
    );
    app.get(
      '/readyz',
      {
        schema: {
          tags,
          summary: 'The node takes traffic: 503 while its store or bus fails, or while it drains',
          response: { 200: s.statusAnswer, 503: s.statusAnswer },
        },
      },
      async (_request, reply) => {
        const ok = await d.ready();
        return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
      },
    );
    app.get(
      '/metrics',
      {
        schema: {
          tags,
          summary: 'Prometheus metrics',
          response: {
            200: {
              description: 'The text exposition format',
              content: { 'text/plain': { schema: z.string() } },
            },
          },
        },
      },
      async (_request, reply) => reply.type(d.metrics.contentType).send(await d.metrics.text()),
    );
    app.get(
      '/v1/openapi.json',
      { schema: { tags, summary: 'This document (OpenAPI 3.1)', response: { 200: s.openApiAnswer } } },
      () => app.swagger() as { openapi: string },
    );
  };

  const push: FastifyPluginAsyncZod = async (app) => {
    app.get(
      '/v1/push/webpush-key',
      {
        schema: {
          tags: ['push'],
          summary:
            "The node's VAPID public key: a browser subscribes to Web Push with it (applicationServerKey), then registers the subscription (registerPush)",
          description:
            'No token needed: the key is public. NOT_FOUND when Web Push is not configured on this node ' +
            '(docs/push-providers.md). Every node of a deployment answers the same key.',
          response: { 200: s.webPushKeyAnswer, ...errors },
        },
      },
      () => {
        if (d.webPushPublicKey === undefined)
          throw new ParleyError('NOT_FOUND', 'Web Push is not configured on this node');
        return { publicKey: d.webPushPublicKey };
      },
    );
  };

  const registration: FastifyPluginAsyncZod = async (app) => {
    readsJson(app);
    app.post(
      '/v1/auth/code',
      {
        schema: {
          tags: ['auth'],
          summary: 'Send a one-time code by SMS to a phone number',
          body: s.codeRequestBody,
          response: { 200: s.codeRequestedAnswer, ...errors },
        },
      },
      (request) => auth.requestCode(request.body.phone, clientAddress(request.raw)),
    );
    app.post(
      '/v1/auth/verify',
      {
        schema: {
          tags: ['auth'],
          summary: 'Trade the code for the credentials of a new primary device',
          body: s.verifyBody,
          response: { 200: s.credentialsAnswer, ...errors },
        },
      },
      ({ body, raw }) =>
        auth.verifyCode(body.phone, body.code, body.deviceName, clientAddress(raw), body.pin),
    );
    app.post(
      '/v1/devices/link',
      {
        schema: {
          tags: ['devices'],
          summary: 'Trade a link code for the credentials of a linked device',
          body: s.linkBody,
          response: { 200: s.credentialsAnswer, ...errors },
        },
      },
      ({ body, raw }) => auth.linkDevice(body.code, body.deviceName, clientAddress(raw)),
    );
  };

  const account: FastifyPluginAsyncZod = async (app) => {
    readsJson(app);
    app.decorateRequest('device', null);
    app.addHook('onRequest', requireDevice);
    const tags = ['account'];
    app.post(
      '/v1/account/delete-code',
      {
        schema: {
          tags,
          security: bearer,
          summary:
            "On the primary device: send a code by SMS to the account's number, to confirm its deletion",
          body: s.deleteCodeBody,
          response: { 200: s.codeRequestedAnswer, ...errors },
        },
      },
      (request) => d.account.requestDeleteCode(request.device!, request.body, clientAddress(request.raw)),
    );
    app.delete(
      '/v1/account',
      {
        schema: {
          tags,
          security: bearer,
          summary: 'On the primary device, with the code: erase the account (docs/accounts.md)',
          body: s.deleteAccountBody,
          response: { 200: s.accountDeletedAnswer, ...errors },
        },
      },
      (request) => d.account.deleteAccount(request.device!, request.body, clientAddress(request.raw)),
    );
  };

  const registrationLock: FastifyPluginAsyncZod = async (app) => {
    readsJson(app);
    app.decorateRequest('device', null);
    app.addHook('onRequest', requireDevice);
    const tags = ['registration lock'];
    // A linked device is refused before its body is looked at (PERMISSION_DENIED, not INVALID_ARGUMENT).
    const primaryOnly = async (request: FastifyRequest) => assertMayChangePin(request.device!);
    app.get(
      '/v1/account/pin',
      {
        schema: {
          tags,
          security: bearer,
          summary: 'Whether the account has a registration-lock PIN (any device)',
          response: { 200: s.pinStatusAnswer, ...errors },
        },
      },
      (request) => d.registrationLock.status(request.device!),
    );
    app.put(
      '/v1/account/pin',
      {
        preValidation: primaryOnly,
        schema: {
          tags,
          security: bearer,
          summary:
            'On the primary device: set or change the PIN a new phone needs after the SMS code; ends a lockout',
          body: s.setPinBody,
          response: { 200: s.pinStatusAnswer, ...errors },
        },
      },
      (request) => d.registrationLock.set(request.device!, request.body),
    );
    app.delete(
      '/v1/account/pin',
      {
        preValidation: primaryOnly,
        schema: {
          tags,
          security: bearer,
          summary: 'On the primary device: remove the PIN; ends a lockout',
          response: { 200: s.pinStatusAnswer, ...errors },
        },
      },
      (request) => d.registrationLock.remove(request.device!),
    );
  };

  /** tus 1.0 (media/uploads.ts): @tus/server reads the body and writes the answer itself. */
  const resumableUploads: FastifyPluginAsyncZod = async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, _payload, done) => done(null));
    const description =
      'tus 1.0 resumable upload (core, creation, expiration, termination, checksum). Create with POST, ' +
      '`Tus-Resumable: 1.0.0`, `Upload-Length` and `Upload-Metadata: sha256 <base64 of the hex digest>, ' +
      'class <base64 of image|voice|video|document>`; then PATCH `application/offset+octet-stream` from ' +
      '`Upload-Offset`, and after a drop ask HEAD for the offset. The PATCH that completes the upload ' +
      `stores the body under its SHA-256 and answers \`${MEDIA_ID_HEADER}\`; a body that does not match ` +
      'its digest is DIGEST_MISMATCH and is deleted. A PATCH may carry `Upload-Checksum: sha256 <base64>` ' +
      '(or sha1, sha512, md5) of its bytes: a chunk that does not match is 460 and not written; an ' +
      'unsupported algorithm is 400. While another PATCH writes the upload on another node, a PATCH ' +
      'waits and then answers 423. Incomplete uploads expire after 24 h. Answers carry `Upload-Chunk-Bytes`, ' +
      'the PATCH size the store writes fastest (8 MiB on local disk, 64 MiB on S3).';
    const serve =
      (withId: boolean) =>
      async (request: FastifyRequest<{ Params: { uploadId?: string } }>, reply: FastifyReply) => {
        // Ownership and the id's form are checked before tus sees the request.
        if (withId) await d.uploads.check(request.device!, request.params.uploadId ?? '');
        const type = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
        if (request.method === 'PATCH' && type !== 'application/offset+octet-stream') {
          const err = new ParleyError('INVALID_ARGUMENT', 'a PATCH carries application/offset+octet-stream');
          return reply.code(415).send(errorJson(err));
        }
        const checksum = d.uploads.checksum(request.headers['upload-checksum']);
        reply.hijack();
        await d.uploads.serve(request.device!, request.raw, reply.raw, checksum).catch((err: unknown) => {
          // tus answers its own errors; this is for what escapes it (the reply is ours now).
          request.log.error({ err, route: routeOf(request.raw) }, 'a resumable upload request failed');
          if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'application/json' });
          reply.raw.end(JSON.stringify(errorJson(new ParleyError('INTERNAL', 'internal error'))));
        });
      };
    app.addHook('onRequest', requireDevice);
    app.route({
      method: 'POST',
      url: UPLOADS_PATH,
      schema: { tags: ['media'], security: bearer, summary: 'Create a resumable upload (tus)', description },
      handler: serve(false),
    });
    app.route({
      method: ['HEAD', 'PATCH', 'DELETE'],
      url: `${UPLOADS_PATH}/:uploadId`,
      schema: {
        tags: ['media'],
        security: bearer,
        summary: 'Ask the offset of (HEAD), append to (PATCH) or remove (DELETE) a resumable upload (tus)',
        description,
      },
      handler: serve(true),
    });
  };

  /** tus discovery (OPTIONS), which clients ask before they authenticate anything. */
  const resumableUploadDiscovery: FastifyPluginAsyncZod = async (app) => {
    app.route({
      method: 'OPTIONS',
      url: UPLOADS_PATH,
      schema: {
        tags: ['media'],
        summary: 'tus discovery: version, extensions, largest size, checksum algorithms',
        description:
          'Answers 204 with `Tus-Version`, `Tus-Extension`, `Tus-Max-Size` and `Tus-Checksum-Algorithm`.',
      },
      handler: async (request, reply) => {
        reply.hijack();
        await d.uploads.serve(undefined, request.raw, reply.raw);
      },
    });
  };

  const mediaUpload: FastifyPluginAsyncZod = async (app) => {
    // The body goes to the blob store as it arrives, hashed on the way.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    app.addHook('preParsing', streamBodyDeadline);
    app.put(
      '/v1/media/:mediaId',
      {
        schema: {
          tags: ['media'],
          security: bearer,
          summary: 'Upload a media body under its SHA-256 (idempotent)',
          consumes: ['application/octet-stream'],
          params: s.mediaParams,
          headers: s.mediaUploadHeaders,
          body: s.mediaBody,
          response: { 200: s.mediaStoredAnswer, 201: s.mediaStoredAnswer, ...errors },
        },
      },
      async (request, reply) => {
        const { mediaId } = request.params;
        const body = (request.body ?? Readable.from([])) as AsyncIterable<Uint8Array>;
        const r = await d.media.upload(
          request.device!,
          mediaId,
          request.headers['content-length'],
          body,
          headerText(request.headers['x-media-class']),
          headerText(request.headers['x-media-use']),
        );
        return reply.code(r.created ? 201 : 200).send({ mediaId, size: r.size });
      },
    );
  };

  const devices: FastifyPluginAsyncZod = async (app) => {
    app.decorateRequest('device', null);
    app.addHook('onRequest', requireDevice);
    const tags = ['devices'];
    app.post(
      '/v1/devices/link-code',
      {
        schema: {
          tags,
          security: bearer,
          summary: 'On the primary device: a short-lived code that links one new device',
          response: { 200: s.linkCodeAnswer, ...errors },
        },
      },
      (request) => auth.createLinkCode(request.device!),
    );
    app.post(
      '/v1/socket-tickets',
      {
        schema: {
          tags: ['auth'],
          security: bearer,
          summary:
            'A one-use ticket, valid 30 s, that opens a WebSocket of this device as /v1/ws?ticket=… (browsers cannot send the Authorization header)',
          response: { 200: s.socketTicketAnswer, ...errors },
        },
      },
      (request) => auth.issueSocketTicket(request.device!),
    );
    app.get(
      '/v1/devices',
      {
        schema: {
          tags,
          security: bearer,
          summary: "The account's devices",
          response: { 200: s.devicesAnswer, ...errors },
        },
      },
      async (request) => ({
        devices: (await auth.listDevices(request.device!)).map((x) => ({
          deviceId: x.id,
          name: x.name,
          primary: x.primary,
          createdAt: x.createdAt,
          lastSeenAt: x.lastSeenAt,
        })),
      }),
    );
    app.delete(
      '/v1/devices/:deviceId',
      {
        schema: {
          tags,
          security: bearer,
          summary: 'Remove a device (the primary: any of the account; any device: itself)',
          params: s.deviceParams,
          response: { 204: z.undefined().meta({ description: 'Removed' }), ...errors },
        },
      },
      async (request, reply) => {
        await auth.removeDevice(request.device!, request.params.deviceId as DeviceId);
        return reply.code(204).send();
      },
    );
    app.post(
      '/v1/media/:mediaId/url',
      {
        schema: {
          tags: ['media'],
          security: bearer,
          summary: 'A signed URL that downloads the body, for this device, valid mediaUrlTtlMs (1 h)',
          description:
            'Issued to the uploader, to current members of a chat with a message that declared the body ' +
            '(sendRequest.mediaIds), to members of a group with it as icon, and for an avatar upload to ' +
            'users who may read the uploader’s profile. Everyone else gets NOT_FOUND, as for a body that ' +
            'does not exist. The URL is used with this device’s bearer token; any node accepts it.',
          params: s.mediaParams,
          response: { 200: s.mediaUrlAnswer, ...errors },
        },
      },
      (request) => d.media.issueUrl(request.device!, request.params.mediaId),
    );
    app.get(
      '/v1/media/:mediaId',
      {
        schema: {
          tags: ['media'],
          security: bearer,
          summary: 'Download a media body, or one range of it',
          description:
            'With `expires` and `signature` from POST /v1/media/{mediaId}/url: served when they were issued to ' +
            'this device for this id and have not expired (else MEDIA_URL_INVALID or MEDIA_URL_EXPIRED). ' +
            'Without them: served to whoever POST …/url would issue a URL to, NOT_FOUND for everyone else. ' +
            "The ETag is the body's SHA-256. `If-None-Match` answers 304; one `Range` of bytes answers 206 " +
            '(several ranges, or a malformed header, are ignored: 200 with the whole body); a range past the ' +
            'end answers 416 RANGE_NOT_SATISFIABLE with `Content-Range: bytes */<size>`. `If-Range` with ' +
            'another validator serves the whole body.',
          params: s.mediaParams,
          querystring: s.mediaDownloadQuery,
          headers: s.mediaDownloadHeaders,
          response: {
            200: {
              description: 'The bytes',
              content: { 'application/octet-stream': { schema: s.mediaBody } },
            },
            206: {
              description: 'The range asked for (`Content-Range: bytes <first>-<last>/<size>`)',
              content: { 'application/octet-stream': { schema: s.mediaBody } },
            },
            304: z
              .undefined()
              .meta({ description: 'Not modified: the client has this body (If-None-Match)' }),
            ...errors,
          },
        },
      },
      async (request, reply) => {
        await d.media.authorize(request.device!, request.params.mediaId, {
          expires: request.query.expires,
          signature: request.query.signature,
        });
        let got: Download;
        try {
          got = await d.media.download(request.params.mediaId, {
            range: request.headers.range,
            ifRange: headerText(request.headers['if-range']),
            ifNoneMatch: headerText(request.headers['if-none-match']),
          });
        } catch (err) {
          if (err instanceof ParleyError && err.code === 'RANGE_NOT_SATISFIABLE')
            reply.header('content-range', `bytes */${err.details?.size}`);
          throw err;
        }
        reply
          .header('etag', got.etag)
          .header('accept-ranges', 'bytes')
          // Immutable: a body never changes under its digest.
          .header('cache-control', 'private, max-age=31536000, immutable');
        if (got.status === 304) return reply.code(304).send();
        const body = got.body instanceof Readable ? got.body : Readable.from(got.body);
        reply.type('application/octet-stream');
        if (got.status === 206) {
          const { start, end } = got.range;
          reply
            .code(206)
            .header('content-range', `bytes ${start}-${end}/${got.size}`)
            .header('content-length', end - start + 1);
        } else {
          reply.header('content-length', got.size);
        }
        return reply.send(body);
      },
    );
    app.register(mediaUpload);
    app.register(resumableUploads);
  };

  return async (app) => {
    app.register(operations);
    app.register(push);
    app.register(registration);
    app.register(resumableUploadDiscovery);
    app.register(devices);
    app.register(account);
    app.register(registrationLock);
  };
}

/** A header's value as one string (a repeated header joined, as HTTP lists are). */
function headerText(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}
