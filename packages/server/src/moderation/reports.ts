/**
 * Users' reports of a user or a chat. The reporter's device may disclose up to five messages
 * it decrypted (the server cannot read them otherwise); each must be a message of the
 * reported chat the reporter can read, from the named sender (its stored time is recorded),
 * so a report cannot attribute text to anyone who did not send a message at that seq. Reports are stored for operators
 * (`parley admin`); the server logs that a report was made, never its text.
 */
import { ParleyError } from '@parley/protocol';
import type { BlockedUserView, BlockService } from '../blocks/service.js';
import type { Directory } from '../chat/directory.js';
import type { ChatService } from '../chat/service.js';
import type { Limiters } from '../limits/limiters.js';
import type { Logger } from '../log.js';
import type { Clock } from '../ports/clock.js';
import type { Ids } from '../ports/ids.js';
import type { ReportedMessage, ReportReason, Store } from '../ports/store.js';
import type { ChatId, Device, UserId } from '../ports/types.js';

export const REPORT_MAX_MESSAGES = 5;
export const REPORT_TEXT_MAX_BYTES = 4096;
export const REPORT_DETAIL_MAX = 500;

export interface ReportInput {
  userId: UserId | undefined;
  chatId: ChatId | undefined;
  reason: ReportReason;
  detail: string;
  messages: ReportedMessage[];
  block: boolean;
}

export interface ReportDeps {
  store: Store;
  directory: Directory;
  chats: Pick<ChatService, 'history'>;
  blocks: BlockService;
  limiters: Limiters;
  clock: Clock;
  ids: Ids;
  log: Logger;
}

export class ReportService {
  constructor(private readonly d: ReportDeps) {}

  async report(
    device: Device,
    input: ReportInput,
  ): Promise<{ reportId: string; blocked: boolean; users: BlockedUserView[] }> {
    const me = device.userId;
    if (!input.userId && !input.chatId)
      throw new ParleyError('INVALID_ARGUMENT', 'a report names a user, a chat, or both');
    if (input.userId === me) throw new ParleyError('INVALID_ARGUMENT', 'you cannot report yourself');
    if (input.messages.length > 0 && !input.chatId)
      throw new ParleyError('INVALID_ARGUMENT', 'attached messages need the chat they come from');
    let blockTarget = input.userId;
    if (input.chatId) {
      const members = await this.d.directory.members(input.chatId);
      if (!members) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
      if (!members.has(me)) throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
      if (!blockTarget && members.kind === 'direct') blockTarget = members.users.find((u) => u !== me);
    }
    if (input.userId && !(await this.d.store.usersExist([input.userId])).has(input.userId))
      throw new ParleyError('USER_NOT_FOUND', 'no such user');
    if (input.block && !blockTarget)
      throw new ParleyError('INVALID_ARGUMENT', 'block needs a user, or a direct chat');
    const messages: ReportedMessage[] = [];
    for (const m of input.messages) {
      // A message the reporter can read (a member since before it), from the named sender.
      const { messages: found } = await this.d.chats.history(device, input.chatId!, {
        afterSeq: m.seq - 1,
        limit: 1,
      });
      const stored = found[0];
      if (
        !stored ||
        stored.seq !== m.seq ||
        stored.kind !== 'payload' ||
        stored.senderUserId !== m.senderUserId
      )
        throw new ParleyError(
          'INVALID_ARGUMENT',
          `message ${m.seq} of this chat was not sent by ${m.senderUserId}`,
        );
      // The stored time, whatever the client said.
      messages.push({ ...m, serverTime: stored.serverTime });
    }
    await this.d.limiters.take('report', me);
    const id = `r_${this.d.ids.secret().slice(0, 16)}`;
    await this.d.store.reportCreate({
      id,
      reporterUserId: me,
      targetUserId: input.userId,
      chatId: input.chatId,
      reason: input.reason,
      detail: input.detail,
      messages,
      createdAt: this.d.clock.now(),
    });
    this.d.log.info(
      {
        reportId: id,
        reporter: me,
        target: input.userId,
        chatId: input.chatId,
        reason: input.reason,
        messages: messages.length,
      },
      'report received',
    );
    if (!input.block || !blockTarget) return { reportId: id, blocked: false, users: [] };
    const users = await this.d.blocks.block(me, blockTarget, device.id);
    return { reportId: id, blocked: true, users };
  }
}
