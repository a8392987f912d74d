/**
 * The web client (packages/web, built by Vite into its dist/) served at `/` by @fastify/static.
 * Hashed files under /assets/ are cached for a year; everything else (index.html and the
 * service worker /sw.js above all) is revalidated on every load, so a new build reaches browsers at once. HTML carries the strict
 * Content-Security-Policy of docs/web-client.md. A GET for an unknown path outside the API that
 * asks for HTML gets index.html (the app routes in the page); anything else keeps the API's
 * JSON errors. Without a build, `/` answers a JSON error that says how to make one.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import { ParleyError } from '@parley/protocol';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';

/**
 * Same origin only, no inline code, no framing (docs/web-client.md). Media from `blob:` only:
 * the page's own files, which it loads into a `<video>` to take a poster frame before sending.
 */
export const WEB_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src blob:; " +
  "connect-src 'self'; manifest-src 'self'; worker-src 'self'; base-uri 'none'; " +
  "frame-ancestors 'none'; form-action 'none'";

/**
 * The app's service worker (Web Push, notification clicks): at the root so its scope is the
 * whole app, unhashed so its URL stays the same, and revalidated on each check like index.html.
 */
export const SERVICE_WORKER = '/sw.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** packages/web/dist of this installation (this file is packages/server/dist/src/gateway/web.js). */
export const DEFAULT_WEB_DIR = fileURLToPath(new URL('../../../../web/dist', import.meta.url));

export interface WebClientOptions {
  /** Serve the web client at all (false: `/` is an unknown path like any other). */
  enabled: boolean;
  /** The built app's directory; default DEFAULT_WEB_DIR. */
  dir?: string | undefined;
}

/** Paths the app never owns: the API and the operations endpoints keep their JSON answers. */
const API_PATH = /^\/(v1(\/|$)|healthz$|readyz$|metrics$)/;

export interface WebClient {
  /** The directory served, and whether it holds a build (an index.html). */
  readonly dir: string;
  readonly built: boolean;
  /** The static files (or, without a build, the `/` that explains). */
  plugin: FastifyPluginAsync;
  /** For the not-found handler: true when it answered (index.html for a page navigation). */
  fallback(request: FastifyRequest, reply: FastifyReply): boolean;
}

export function webClient(o: WebClientOptions): WebClient | undefined {
  if (!o.enabled) return undefined;
  const dir = resolve(o.dir ?? DEFAULT_WEB_DIR);
  const built = existsSync(join(dir, 'index.html'));
  const notBuilt = () =>
    new ParleyError(
      'NOT_FOUND',
      'the web client is not built: run npm run build on the server, or set --web-dir',
    );
  const plugin: FastifyPluginAsync = async (app) => {
    if (!built) {
      app.get('/', { schema: { hide: true } }, async () => {
        throw notBuilt();
      });
      return;
    }
    await app.register(fastifyStatic, {
      root: dir,
      prefix: '/',
      index: 'index.html',
      wildcard: true,
      dotfiles: 'ignore',
      // Caching is set per file below; ETag and Last-Modified let a browser revalidate cheaply.
      cacheControl: false,
      etag: true,
      lastModified: true,
      setHeaders: (res, path) => {
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'no-referrer');
        const relative = path.slice(dir.length).replaceAll('\\', '/');
        res.setHeader('Cache-Control', relative.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
        // The service worker runs under the policy its own script is served with.
        if (relative.endsWith('.html') || relative === SERVICE_WORKER)
          res.setHeader('Content-Security-Policy', WEB_CSP);
      },
    });
  };
  // Registered in the app's own scope (Fastify's skip-override, what fastify-plugin sets), so
  // reply.sendFile is there for the root not-found handler's fallback to index.html.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return {
    dir,
    built,
    plugin,
    fallback(request, reply) {
      if (request.method !== 'GET' || !(request.headers.accept ?? '').includes('text/html')) return false;
      let path: string;
      try {
        path = new URL(request.url, 'http://localhost').pathname;
      } catch {
        return false;
      }
      if (API_PATH.test(path)) return false;
      if (!built) throw notBuilt();
      reply.sendFile('index.html');
      return true;
    },
  };
}
