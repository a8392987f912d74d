/** The browser suite's one error rule: callers see E2eError only. */
import { E2eError } from '../crypto/errors.js';

/** Runs `task`; an error that is not an E2eError (a malformed key, say) becomes BAD_MESSAGE. */
export async function asE2eError<T>(task: () => Promise<T>): Promise<T> {
  try {
    return await task();
  } catch (err) {
    if (err instanceof E2eError) throw err;
    throw new E2eError('BAD_MESSAGE', 'ciphertext cannot be processed', { cause: err });
  }
}
