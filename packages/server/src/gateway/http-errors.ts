/**
 * Errors of the HTTP API, mapped once: Fastify's own (validation, body parsing, bad URLs) become
 * the project's codes, and every error answers `{error:{code,message}}`. Unknown errors are
 * logged and become INTERNAL; a client that went away is logged at debug and nothing is answered.
 */
import { type ErrorCode, isErrorCode, ParleyError } from '@parley/protocol';
import { type FastifyError, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorJson, retryAfterSeconds, toParleyError } from './errors.js';
import { ERROR_CODE_KEY } from './http-schemas.js';

/** Error codes of a peer that went away mid-request: nothing to answer, nothing to fix. */
const CLIENT_GONE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

export function clientWentAway(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    if (CLIENT_GONE.has((e as { code?: string }).code ?? '') || e.message === 'aborted') return true;
  }
  return false;
}

/** Method and path for the log: never the query, which may carry a token. */
export function routeOf(req: { method?: string; url?: string }): string {
  return `${req.method} ${(req.url ?? '').split('?')[0]!.slice(0, 200)}`;
}

/** Fastify's request errors by code; any other 4xx of the framework is INVALID_ARGUMENT. */
const FRAMEWORK_ERRORS: Record<string, [ErrorCode, string]> = {
  FST_ERR_BAD_URL: ['INVALID_ARGUMENT', 'the request target is not a valid URL'],
  FST_ERR_MAX_PARAM_LENGTH: ['NOT_FOUND', 'no such resource'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['INVALID_ARGUMENT', 'the request body is too large'],
  FST_ERR_CTP_INVALID_JSON_BODY: ['INVALID_ARGUMENT', 'request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['INVALID_ARGUMENT', 'request body is not valid JSON'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: ['INVALID_ARGUMENT', 'the body does not match its content-length'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['INVALID_ARGUMENT', 'unsupported content-type'],
};

/**
 * The code a failed validation answers: the `x-error-code` of the first field at fault (a bad
 * phone number is INVALID_PHONE, as the service would say), else INVALID_ARGUMENT.
 */
function validationError(err: FastifyError, request: FastifyRequest): ParleyError {
  const issue = err.validation![0]!;
  const part = err.validationContext ?? 'body';
  const field = issue.instancePath.split('/')[1] ?? '';
  const schema = (request.routeOptions.schema as Record<string, unknown> | undefined)?.[part];
  const fieldSchema = schema instanceof z.ZodObject ? schema.shape[field] : undefined;
  const named = fieldSchema instanceof z.ZodType ? fieldSchema.meta()?.[ERROR_CODE_KEY] : undefined;
  const where = field ? `${field}: ` : part === 'body' ? 'request body: ' : `${part}: `;
  return new ParleyError(
    typeof named === 'string' && isErrorCode(named) ? named : 'INVALID_ARGUMENT',
    `${where}${issue.message ?? 'invalid'}`,
  );
}

/** Any error raised while serving a request, as the ParleyError it answers with. */
export function fromFramework(err: unknown, request: FastifyRequest): unknown {
  if (err instanceof ParleyError) return err;
  if (hasZodFastifySchemaValidationErrors(err)) return validationError(err as FastifyError, request);
  const e = err as Partial<FastifyError>;
  const known = e.code ? FRAMEWORK_ERRORS[e.code] : undefined;
  if (known) return new ParleyError(known[0], known[1]);
  if (e.code?.startsWith('FST_') && e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return new ParleyError('INVALID_ARGUMENT', e.message ?? 'bad request');
  }
  // The web client's file server (@fastify/send) refuses with http-errors: a path that leaves
  // its directory (403) is as unknown as a missing file; a bad range or precondition is the client's.
  const status = (e as { status?: unknown }).status;
  if (
    (e as { expose?: unknown }).expose === true &&
    typeof status === 'number' &&
    status >= 400 &&
    status < 500
  ) {
    return status === 403 || status === 404
      ? new ParleyError('NOT_FOUND', 'no such file')
      : new ParleyError('INVALID_ARGUMENT', e.message ?? 'bad request');
  }
  return err;
}

/**
 * Answers `err`. A request whose body was not read to the end (refused or timed out) closes
 * the connection after the answer, so what is left of the body is not read as a next request.
 */
export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): void {
  if (clientWentAway(err)) {
    request.log.debug(
      { route: routeOf(request.raw), code: (err as { code?: string }).code },
      'client went away',
    );
    reply.hijack();
    reply.raw.destroy();
    return;
  }
  const e = toParleyError(fromFramework(err, request), request.log.child({ route: routeOf(request.raw) }));
  if (e.retryAfterMs !== undefined) reply.header('retry-after', retryAfterSeconds(e.retryAfterMs));
  if (!request.raw.complete) reply.header('connection', 'close');
  reply.code(e.httpStatus).type('application/json; charset=utf-8').send(errorJson(e));
}

/**
 * Fastify's own log lines: none per request (they would be as many as requests, and errors are
 * logged once by sendError), and a download the client cancelled is a debug line, not a warning.
 */
export class EdgeLogs extends LogController {
  override incomingRequest(): void {}
  override requestCompleted(): void {}
  override routeNotFound(): void {}
  override defaultErrorLog(): void {}
  override writeHeadError(err: Error, request: FastifyRequest): void {
    request.log.warn({ route: routeOf(request.raw), err }, 'writing the response head failed');
  }
  override streamError(err: Error, request: FastifyRequest): void {
    const route = routeOf(request.raw);
    if (clientWentAway(err))
      request.log.debug({ route, code: (err as { code?: string }).code }, 'client went away');
    else request.log.warn({ route, err }, 'response stream failed after its headers were sent');
  }
}
