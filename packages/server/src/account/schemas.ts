/**
 * Request bodies of the account routes, as zod schemas: a body that does not parse is
 * INVALID_ARGUMENT, naming the first problem, before anything else happens.
 */
import { ParleyError } from '@parley/protocol';
import { z } from 'zod';

/** POST /v1/account/delete-code: no fields (an empty body is the same as `{}`). */
export const deleteCodeRequest = z.object({}).strict();

/** DELETE /v1/account: the code sent by SMS for this purpose. */
export const deleteAccountRequest = z
  .object({
    /** Checked as a code (6 digits) by the auth service: CODE_INVALID, not INVALID_ARGUMENT. */
    code: z.string().max(64),
  })
  .strict();

/** The parsed body, or INVALID_ARGUMENT naming the first problem. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const r = schema.safeParse(body);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : 'body';
  throw new ParleyError('INVALID_ARGUMENT', `${where}: ${issue.message}`);
}
