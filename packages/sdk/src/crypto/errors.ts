/**
 * The errors of the end-to-end layer. They stay on the device (never cross the wire), so
 * they have their own code table; a libsignal error is kept as `cause`.
 */
export const E2eErrorCodes = {
  INVALID_ARGUMENT: 'a device id, count or key has the wrong shape',
  BAD_BUNDLE: 'a prekey bundle whose keys or signatures do not verify',
  NO_SESSION: 'no session with the device',
  BAD_MESSAGE: 'a ciphertext that cannot be parsed',
  DUPLICATE_MESSAGE: 'a message that was already decrypted',
  DECRYPT_FAILED: 'a ciphertext that does not authenticate',
  UNKNOWN_PREKEY:
    'a first message to a prekey this device no longer has (a signed key pruned after its grace period, a used one-time key)',
  NO_SENDER_KEY: 'no sender key for the chat or the sender',
  ATTACHMENT_INVALID: 'an attachment whose key, digest or MAC does not match',
} as const;

export type E2eErrorCode = keyof typeof E2eErrorCodes;

export class E2eError extends Error {
  override readonly name = 'E2eError';

  constructor(
    readonly code: E2eErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}
