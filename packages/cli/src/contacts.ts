/**
 * Names for ids: people show by the name in their end-to-end encrypted profile (learnt from
 * SecureMessaging, which keeps the decrypted profiles), else by the phone number the user
 * typed (a userId → phone map learnt from discovery and kept in the local store, never sent
 * anywhere), else by their user id.
 */
import { type ChatInfo, ChatKind, type LocalStore } from '@parley/sdk';

const KEY = 'contacts';

export class Contacts {
  private constructor(
    private readonly store: LocalStore,
    private readonly phones: Map<string, string>,
    private readonly self: { userId: string; phone?: string },
    private readonly names = new Map<string, string>(),
  ) {}

  static async load(store: LocalStore, self: { userId: string; phone?: string }): Promise<Contacts> {
    const saved = (await store.load(KEY)) as Record<string, string> | undefined;
    const phones = new Map(Object.entries(saved ?? {}));
    return new Contacts(store, phones, self);
  }

  phoneOf(userId: string): string | undefined {
    return userId === this.self.userId ? this.self.phone : this.phones.get(userId);
  }

  /** Records phone numbers found by discovery and saves them. */
  async learn(matches: readonly { phone: string; userId: string }[]): Promise<void> {
    let changed = false;
    for (const { phone, userId } of matches) {
      if (this.phones.get(userId) !== phone) {
        this.phones.set(userId, phone);
        changed = true;
      }
    }
    if (changed) await this.store.save(KEY, Object.fromEntries(this.phones));
  }

  /** Records the names of decrypted profiles (a newer one replaces the older). */
  learnNames(profiles: readonly { userId: string; name: string }[]): void {
    for (const p of profiles) this.names.set(p.userId, p.name);
  }

  /** The name in the user's profile, when this device could read it. */
  profileName(userId: string): string | undefined {
    return this.names.get(userId);
  }

  /** "you", the profile name, the phone number, or the user id. */
  userName(userId: string): string {
    if (userId === this.self.userId) return 'you';
    return this.names.get(userId) ?? this.phones.get(userId) ?? userId;
  }

  /** What commands take to name the user (/safety): the phone number, else the user id. */
  handleOf(userId: string): string {
    return this.phoneOf(userId) ?? userId;
  }

  /** A group's name, or for a direct chat the other member's name. */
  chatName(chat: ChatInfo): string {
    if (chat.kind === ChatKind.GROUP) return chat.name || chat.id;
    const other = chat.members.find((m) => m.userId !== this.self.userId);
    return other ? this.userName(other.userId) : chat.name || chat.id;
  }
}
