/**
 * The schemas of the HTTP API: one zod schema per body, parameter and answer. Fastify validates
 * requests with them and the OpenAPI document is generated from them, so neither can drift.
 * A field whose bad value has its own error code (INVALID_PHONE, CODE_INVALID) names it with
 * `x-error-code`; every other malformed request is INVALID_ARGUMENT.
 */
import { type ErrorCode, ErrorCodes } from '@parley/protocol';
import { z } from 'zod';
import { pinSchema } from '../auth/registration-lock.js';
import { DEVICE_NAME_MAX } from '../auth/service.js';

/** The metadata key naming the error code a bad value of a field answers with. */
export const ERROR_CODE_KEY = 'x-error-code';

/** `schema`, answering a missing or malformed value with `code` rather than INVALID_ARGUMENT. */
function failsWith<T extends z.ZodType>(schema: T, code: ErrorCode, description: string): T {
  return schema.meta({ description, [ERROR_CODE_KEY]: code });
}

const phone = failsWith(
  z.string().max(32),
  'INVALID_PHONE',
  'An international number in E.164 form, like +14155550123',
);
const deviceName = z
  .string()
  .max(DEVICE_NAME_MAX)
  .nullish()
  .meta({ description: 'Shown in the device list; "primary" or "linked" when left out' });

export const codeRequestBody = z.object({ phone });
export const verifyBody = z.object({
  phone,
  deviceName,
  code: failsWith(z.string().regex(/^\d{6}$/), 'CODE_INVALID', 'The six digits the SMS carried'),
  pin: pinSchema.nullish().meta({
    description:
      'The registration-lock PIN (6 to 20 digits), when the number has one: asked with PIN_REQUIRED after the right code',
  }),
});
export const linkBody = z.object({
  code: failsWith(z.string().min(8).max(64), 'CODE_INVALID', 'The code the primary device showed'),
  deviceName,
});

/** POST /v1/account/delete-code: no fields; the body may be left out. */
export const deleteCodeBody = z.strictObject({}).optional();
/** DELETE /v1/account. A well-formed code that is not the one sent is CODE_INVALID. */
export const deleteAccountBody = z.strictObject({
  code: z
    .string()
    .max(64)
    .meta({ description: 'The six digits of the SMS asked for with /v1/account/delete-code' }),
});
export const accountDeletedAnswer = z.object({
  chatsLeft: z.number().int().meta({ description: 'Chats whose other members were told the user left' }),
  chatsDropped: z.number().int().meta({ description: 'Chats removed whole: nobody else was in them' }),
});

/** PUT /v1/account/pin. */
export const setPinBody = z.strictObject(
  { pin: pinSchema.meta({ description: '6 to 20 digits (0-9); no current PIN is needed' }) },
  { error: 'the body must be {"pin": "<6 to 20 digits>"}' },
);
export const pinStatusAnswer = z.object({
  enabled: z.boolean(),
  setAt: z.number().int().optional().meta({ description: 'When the PIN was set (ms since the Unix epoch)' }),
});

export const deviceParams = z.object({
  deviceId: failsWith(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), 'NOT_FOUND', 'A device of this account'),
});
export const mediaParams = z.object({
  mediaId: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .meta({ description: 'The SHA-256 of the body, 64 lowercase hex digits' }),
});
export const mediaUploadHeaders = z.looseObject({
  'content-length': z
    .string()
    .regex(/^\d{1,12}$/)
    .meta({ description: 'Required: the size of the body, at most mediaMaxBytes and the class cap' }),
  'x-media-class': z.enum(['image', 'voice', 'video', 'document']).optional().meta({
    description:
      'What the body is (the server sees ciphertext): picks the cap, mediaMax{Image,Voice,Video,Document}Bytes. Default document.',
  }),
  'x-media-use': z.enum(['attachment', 'avatar']).optional().meta({
    description:
      'What the body is for. `avatar`: the profile avatar, which users who may read the uploader’s profile may fetch. Default attachment.',
  }),
});
export const mediaDownloadQuery = z.looseObject({
  expires: z
    .string()
    .optional()
    .meta({ description: 'From a signed URL (POST /v1/media/{mediaId}/url): its expiry, Unix ms' }),
  signature: z
    .string()
    .optional()
    .meta({ description: 'From a signed URL: HMAC-SHA256 of the media id, this device and the expiry' }),
});
export const mediaUrlAnswer = z.object({
  url: z.string().meta({
    description:
      'Path and query to GET with this device’s bearer token: /v1/media/<id>?expires=…&signature=…',
  }),
  expiresAt: z
    .number()
    .int()
    .meta({ description: 'Milliseconds since the Unix epoch (mediaUrlTtlMs after issue)' }),
});
export const mediaDownloadHeaders = z.looseObject({
  range: z
    .string()
    .optional()
    .meta({ description: 'One range of bytes: `bytes=<first>-<last>`, `<first>-` or `-<n>`' }),
  'if-range': z
    .string()
    .optional()
    .meta({ description: 'Serve the range only if the ETag is still this one' }),
  'if-none-match': z
    .string()
    .optional()
    .meta({ description: 'ETags the client has: 304 when one is this body' }),
});
/** The upload is read as a stream by the handler; the schema only documents it. */
export const mediaBody = z.any().meta({ description: 'The bytes', type: 'string', format: 'binary' });

export const errorAnswer = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ErrorCodes) as [ErrorCode, ...ErrorCode[]]),
      message: z.string().meta({ description: 'For people: never parse it, use code' }),
      retryAfterMs: z.number().int().optional().meta({ description: 'Retrying sooner fails again' }),
      details: z
        .object({
          pinTriesLeft: z.number().int().optional().meta({ description: 'PIN_REQUIRED, PIN_INVALID' }),
          lockedUntil: z
            .number()
            .int()
            .optional()
            .meta({ description: 'PIN_LOCKED: ms since the Unix epoch' }),
        })
        .optional()
        .meta({ description: 'Only with the registration-lock codes' }),
    }),
  })
  .meta({ id: 'Error', description: 'Every HTTP error answers with this body' });

export const statusAnswer = z.object({ status: z.enum(['ok', 'ready', 'not ready']) });
export const codeRequestedAnswer = z.object({
  phone: z.string().meta({ description: 'The number in E.164 form' }),
  expiresInMs: z.number().int(),
  resendAfterMs: z.number().int(),
});
export const credentialsAnswer = z
  .object({
    userId: z.string(),
    deviceId: z.string(),
    token: z.string().meta({ description: "The device's bearer token: keep it secret" }),
    primary: z.boolean(),
  })
  .meta({ id: 'Credentials' });
export const socketTicketAnswer = z.object({
  ticket: z.string().meta({ description: 'Opens one WebSocket as /v1/ws?ticket=…; base64url' }),
  expiresAt: z.number().int().meta({ description: 'Milliseconds since the Unix epoch; 30 s after issue' }),
});
export const webPushKeyAnswer = z.object({
  publicKey: z.string().meta({
    description: 'The VAPID public key: base64url (no padding) of the 65-byte uncompressed P-256 point',
  }),
});
export const linkCodeAnswer = z.object({ code: z.string(), expiresInMs: z.number().int() });
export const devicesAnswer = z.object({
  devices: z.array(
    z.object({
      deviceId: z.string(),
      name: z.string(),
      primary: z.boolean(),
      createdAt: z.number().int().meta({ description: 'Milliseconds since the Unix epoch' }),
      lastSeenAt: z.number().int().meta({ description: 'Milliseconds since the Unix epoch' }),
    }),
  ),
});
export const mediaStoredAnswer = z.object({ mediaId: z.string(), size: z.number().int() });
export const openApiAnswer = z.looseObject({ openapi: z.string() });
