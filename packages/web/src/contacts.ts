/**
 * How people are called here: the name in their end-to-end encrypted profile when this device
 * can read it, else the phone number this device found by discovery (kept in its local store),
 * else their user id.
 */
import {
  type AttachmentPointer,
  type LocalStore,
  normalizePhone,
  type ParleyClient,
  ParleyError,
  type SecureMessaging,
  type UserProfile,
} from '@parley/sdk/browser';

const KEY = 'web-contacts';

export class Contacts {
  /** Names and avatars from the profiles this device can read. */
  private readonly names = new Map<string, string>();
  private readonly avatars = new Map<string, AttachmentPointer>();

  private constructor(
    private readonly store: LocalStore,
    private readonly phones: Map<string, string>,
  ) {}

  /** Takes names from `secure`'s profiles, now and as they change; calls `changed` after each. */
  async followProfiles(secure: SecureMessaging, changed: () => void): Promise<void> {
    const take = (p: UserProfile) => {
      const name = p.name?.trim();
      if (name) this.names.set(p.userId, name);
      else this.names.delete(p.userId);
      if (p.avatar) this.avatars.set(p.userId, p.avatar);
      else this.avatars.delete(p.userId);
    };
    secure.on('profileChanged', (p) => {
      take(p);
      changed();
    });
    for (const p of await secure.knownProfiles()) take(p);
  }

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

  /** The encrypted avatar a user's profile points at, if this device can read their profile. */
  avatar(userId: string): AttachmentPointer | undefined {
    return this.avatars.get(userId);
  }

  /** A user's profile name, else their phone number if known, else their user id. */
  name(userId: string): string {
    return this.names.get(userId) ?? this.phones.get(userId) ?? userId;
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
