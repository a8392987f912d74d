/** Delivers one-time codes. Implementations must not log the code outside an explicit dev sink. */
export interface SmsProvider {
  /** Sends `code` to the E.164 `phone`. Rejects when the provider could not accept it. */
  sendCode(phone: string, code: string): Promise<void>;
}
