/**
 * HTTP routes: registration, registration lock, linking, devices, media, health. Every body is validated here; a
 * route throws and the edge's error boundary (edge.ts) answers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import { ParleyError } from '@parley/protocol';
import type { RegistrationLockService } from '../auth/registration-lock.js';
import type { AuthService } from '../auth/service.js';
import type { MediaService } from '../media/service.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Device, DeviceId } from '../ports/types.js';
import { clientAddress } from './client-address.js';
import { readJson, sendJson, timedBody } from './http-util.js';

export interface HttpDeps {
  auth: AuthService;
  registrationLock: RegistrationLockService;
  media: MediaService;
  metrics: Metrics;
  ready: () => Promise<boolean>;
  /** A JSON body must arrive whole, and a media body must not stall, within this time. */
  bodyTimeoutMs: number;
}

/** The path of the request target; a target the URL parser refuses is INVALID_ARGUMENT. */
function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    throw new ParleyError('INVALID_ARGUMENT', 'the request target is not a valid URL');
  }
}

async function requireDevice(auth: AuthService, req: IncomingMessage): Promise<Device> {
  const h = req.headers.authorization;
  const device = await auth.authenticate(h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined);
  if (!device) throw new ParleyError('UNAUTHENTICATED', 'missing, invalid or revoked device token');
  return device;
}

export function createHttpHandler(d: HttpDeps) {
  const { auth } = d;
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = pathOf(req);
    const route = `${req.method} ${path}`;
    if (route === 'GET /healthz') return sendJson(res, 200, { status: 'ok' });
    if (route === 'GET /readyz') {
      const ok = await d.ready();
      return sendJson(res, ok ? 200 : 503, { status: ok ? 'ready' : 'not ready' });
    }
    if (route === 'GET /metrics') {
      const text = await d.metrics.text();
      res.writeHead(200, {
        'content-type': d.metrics.contentType,
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
      return;
    }
    if (route === 'POST /v1/auth/code') {
      const body = await readJson(req, d.bodyTimeoutMs);
      return sendJson(res, 200, await auth.requestCode(body.phone, clientAddress(req)));
    }
    if (route === 'POST /v1/auth/verify') {
      const body = await readJson(req, d.bodyTimeoutMs);
      return sendJson(
        res,
        200,
        await auth.verifyCode(body.phone, body.code, body.deviceName, clientAddress(req), body.pin),
      );
    }
    if (path === '/v1/account/pin' && ['GET', 'PUT', 'DELETE'].includes(req.method ?? '')) {
      const device = await requireDevice(auth, req);
      const lock = d.registrationLock;
      if (req.method === 'GET') return sendJson(res, 200, await lock.status(device));
      if (req.method === 'DELETE') return sendJson(res, 200, await lock.remove(device));
      return sendJson(res, 200, await lock.set(device, await readJson(req, d.bodyTimeoutMs)));
    }
    if (route === 'POST /v1/devices/link-code') {
      const device = await requireDevice(auth, req);
      return sendJson(res, 200, await auth.createLinkCode(device));
    }
    if (route === 'POST /v1/devices/link') {
      const body = await readJson(req, d.bodyTimeoutMs);
      return sendJson(res, 200, await auth.linkDevice(body.code, body.deviceName, clientAddress(req)));
    }
    if (route === 'GET /v1/devices') {
      const device = await requireDevice(auth, req);
      const list = await auth.listDevices(device);
      return sendJson(res, 200, {
        devices: list.map((x) => ({
          deviceId: x.id,
          name: x.name,
          primary: x.primary,
          createdAt: x.createdAt,
          lastSeenAt: x.lastSeenAt,
        })),
      });
    }
    const media = /^(PUT|GET) \/v1\/media\/([^/]{1,128})$/.exec(route);
    if (media) {
      const device = await requireDevice(auth, req);
      if (media[1] === 'PUT') {
        const body = timedBody(req, d.bodyTimeoutMs);
        const r = await d.media.upload(device, media[2]!, req.headers['content-length'], body);
        return sendJson(res, r.created ? 201 : 200, { mediaId: media[2], size: r.size });
      }
      const blob = await d.media.download(media[2]!);
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': blob.size,
        'cache-control': 'private, max-age=86400, immutable',
      });
      await pipeline(blob.body, res);
      return;
    }
    const del = /^DELETE \/v1\/devices\/([A-Za-z0-9_-]{1,64})$/.exec(route);
    if (del) {
      const device = await requireDevice(auth, req);
      await auth.removeDevice(device, del[1] as DeviceId);
      res.writeHead(204).end();
      return;
    }
    throw new ParleyError('NOT_FOUND', `no route for ${req.method} ${path}`);
  };
}
