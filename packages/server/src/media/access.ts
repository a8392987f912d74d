/**
 * Who may fetch a media body (docs/security.md, "Media access"): its uploader; a current
 * member of a chat with a message that declared it (sendRequest.mediaIds) and was not deleted
 * for everyone nor expired; a member of a chat whose icon it is; and for a body uploaded as an
 * avatar, anyone who may read its owner's profile (shares a chat with them and is not blocked
 * by them). Everyone else is told NOT_FOUND, the same answer as for a body that does not
 * exist, so an answer never tells whether a body exists.
 */
import { ParleyError } from '@parley/protocol';
import type { BlockCheck } from '../blocks/service.js';
import type { Store } from '../ports/store.js';
import type { UserId } from '../ports/types.js';

export class MediaAccessRule {
  constructor(
    private readonly store: Pick<Store, 'mediaAccess'>,
    private readonly blocks: BlockCheck,
  ) {}

  async mayFetch(userId: UserId, mediaId: string): Promise<boolean> {
    const a = await this.store.mediaAccess(mediaId, userId);
    if (a.granted) return true;
    for (const owner of a.avatarOwners) {
      if (owner === userId || !(await this.blocks.isBlocked(owner, userId))) return true;
    }
    return false;
  }

  /** Throws NOT_FOUND unless `userId` may fetch the body. */
  async check(userId: UserId, mediaId: string): Promise<void> {
    if (!(await this.mayFetch(userId, mediaId))) throw notFound();
  }
}

export const notFound = () => new ParleyError('NOT_FOUND', 'no such media (it may have expired)');
