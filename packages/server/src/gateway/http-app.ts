/**
 * The HTTP framework (Fastify) as Parley runs it: zod schemas validate every request and
 * generate the OpenAPI document, every error answers `{error:{code,message}}`, CORS only for
 * the configured origins, the web client's static files at `/` (web.ts). The server underneath
 * is the edge's (edge.ts); the routes are in http.ts.
 */
import fastifyCors from '@fastify/cors';
import fastifySwagger from '@fastify/swagger';
import { ParleyError } from '@parley/protocol';
import Fastify, { type FastifyRequest, type FastifyServerFactory } from 'fastify';
import {
  type FastifyPluginAsyncZod,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from '../log.js';
import { answerClientError } from './edge.js';
import { EdgeLogs, sendError } from './http-errors.js';
import type { WebClient } from './web.js';

export interface HttpAppOptions {
  log: Logger;
  /** Origins a browser app may call the API from (`*` for any); none sends no CORS headers. */
  corsOrigins: readonly string[];
  /** The HTTP server the app answers on; Fastify makes a plain one without it (tests). */
  serverFactory?: FastifyServerFactory;
  version: string;
  /** The web client served at `/` (web.ts); none leaves `/` an unknown path. */
  web?: WebClient | undefined;
}

/** The answer to a request no route takes; a target the URL parser refuses is INVALID_ARGUMENT. */
function noRoute(request: FastifyRequest): ParleyError {
  let path: string;
  try {
    path = new URL(request.url, 'http://localhost').pathname;
  } catch {
    return new ParleyError('INVALID_ARGUMENT', 'the request target is not a valid URL');
  }
  return new ParleyError('NOT_FOUND', `no route for ${request.method} ${path.slice(0, 200)}`);
}

export function createHttpApp(o: HttpAppOptions, routes: FastifyPluginAsyncZod) {
  const app = Fastify({
    loggerInstance: o.log,
    logController: new EdgeLogs(),
    ...(o.serverFactory && { serverFactory: o.serverFactory }),
    clientErrorHandler: answerClientError(o.log),
    frameworkErrors: (err, request, reply) => sendError(request, reply, err),
    // HEAD is not part of the API (a HEAD of a media id would open its body for nothing).
    exposeHeadRoutes: false,
    // While a node drains, /readyz must still answer (503) and errors keep their shape.
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  app.setNotFoundHandler(async (request, reply) => {
    // A page navigation to a path of the app (not of the API) gets the app's index.html.
    if (o.web?.fallback(request, reply)) return reply;
    throw noRoute(request);
  });
  // The body of a request no route takes is not read (the answer closes the connection).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));

  app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Parley HTTP API',
        version: o.version,
        description:
          'Registration, device linking, media and operations. Messaging runs over the WebSocket at /v1/ws (docs/protocol.md).',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description: "The device's token (a suspended account's tokens answer 403 ACCOUNT_SUSPENDED)",
          },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  if (o.corsOrigins.length > 0) {
    app.register(fastifyCors, {
      origin: o.corsOrigins.includes('*') ? '*' : [...o.corsOrigins],
      methods: ['GET', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['retry-after'],
      maxAge: 600,
    });
  }
  app.register(routes);
  if (o.web) app.register(o.web.plugin);
  return app;
}
