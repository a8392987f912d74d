/**
 * Phone numbers this device found by discovery, by user id, kept in its local store: people
 * show by number instead of user id once known (profiles with names come later).
 */
import { type LocalStore, normalizePhone, type ParleyClient, ParleyError } from '@parley/sdk/browser';

const KEY = 'web-contacts';

export class Contacts {
  private constructor(
    private readonly store: LocalStore,
    private readonly phones: Map<string, string>,
  ) {}

  static async open(store: LocalStore): Promise<Contacts> {
    const saved = await store.load(KEY);
    const entries =
      typeof saved === 'object' && saved !== null
        ? Object.entries(saved as Record<string, unknown>).filter(
            (e): e is [string, string] => typeof e[1] === 'string',
          )
        : [];
    return new Contacts(store, new Map(entries));
  }

  /** A user's phone number if known, else their user id. */
  name(userId: string): string {
    return this.phones.get(userId) ?? userId;
  }

  /**
   * The user ids of these phone numbers (hashed discovery), in their order; USER_NOT_FOUND
   * names the first number without an account.
   */
  async resolve(client: ParleyClient, phones: readonly string[]): Promise<string[]> {
    const normalized = phones.map((p) => normalizePhone(p.trim()));
    const matches = await client.discover(normalized);
    const ids = normalized.map((phone) => {
      const m = matches.find((x) => x.phone === phone);
      if (!m) throw new ParleyError('USER_NOT_FOUND', `No Parley account has the number ${phone}.`);
      this.phones.set(m.userId, phone);
      return m.userId;
    });
    await this.store.save(KEY, Object.fromEntries(this.phones));
    return ids;
  }
}
