/** A chat as the node has it now: fetched when shown and again after each change to it. */
import type { ChatInfo, ParleyClient } from '@parley/sdk/browser';
import { useEffect, useState } from 'preact/hooks';

export function useChat(client: ParleyClient, initial: ChatInfo): [ChatInfo, (c: ChatInfo) => void] {
  const [chat, setChat] = useState(initial);
  useEffect(() => {
    const load = () => client.getChat(initial.id).then(setChat, () => {});
    if (client.connected) void load();
    const stops = [
      client.on('chatUpdate', (u) => {
        if (u.chatId === initial.id) void load();
      }),
      client.on('connected', () => void load()),
    ];
    return () => {
      for (const stop of stops) stop();
    };
  }, [client, initial.id]);
  return [chat, setChat];
}
