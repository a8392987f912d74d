/**
 * Typing indicators: relayed to the chat's other members' connected devices, never stored.
 * A COMPOSING event carries how long clients show it without a PAUSED or a message.
 */
import { ParleyError, TypingState } from '@parley/protocol';
import type { BlockCheck } from '../blocks/service.js';
import type { Directory } from '../chat/directory.js';
import type { Hub } from '../delivery/hub.js';
import type { ChatId, Device } from '../ports/types.js';

export const TYPING_EXPIRES_MS = 10_000;

export async function relayTyping(
  deps: { directory: Directory; hub: Hub; blocks: BlockCheck },
  device: Device,
  chatId: ChatId,
  state: TypingState,
): Promise<void> {
  if (state !== TypingState.COMPOSING && state !== TypingState.PAUSED) {
    throw new ParleyError('INVALID_ARGUMENT', 'state must be TYPING_STATE_COMPOSING or TYPING_STATE_PAUSED');
  }
  const members = await deps.directory.members(chatId);
  if (!members) throw new ParleyError('CHAT_NOT_FOUND', 'no such chat');
  if (!members.has(device.userId)) throw new ParleyError('NOT_A_MEMBER', 'you are not a member of this chat');
  const value = {
    chatId,
    userId: device.userId,
    state,
    expiresInMs: state === TypingState.COMPOSING ? TYPING_EXPIRES_MS : 0,
  };
  for (const u of members.users) {
    // Someone the typist blocked does not see them typing, nor does someone who blocked the
    // typist (in groups too).
    if (u === device.userId) continue;
    if ((await deps.blocks.isBlocked(device.userId, u)) || (await deps.blocks.isBlocked(u, device.userId)))
      continue;
    deps.hub.pushToDevices(await deps.directory.devicesOf(u), { case: 'typingEvent', value });
  }
}
