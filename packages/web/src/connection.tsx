/**
 * The socket's state as the screens show it: the chat list's status line, and in a chat a
 * banner (role="status", announced) while the socket is down, gone once it is back.
 */
import { type ParleyClient, ParleyError } from '@parley/sdk/browser';
import { useEffect, useState } from 'preact/hooks';

export type Status = 'connecting' | 'online' | 'offline' | 'revoked';

export const STATUS_TEXT: Record<Status, string> = {
  connecting: 'Connecting…',
  online: 'Connected',
  offline: 'Offline, reconnecting…',
  revoked: 'This browser was signed out.',
};

/** Follows the client's connected / disconnected events. */
export function useConnection(client: ParleyClient): Status {
  const [status, setStatus] = useState<Status>(client.connected ? 'online' : 'connecting');
  useEffect(() => {
    const stops = [
      client.on('connected', () => setStatus('online')),
      client.on('disconnected', (info) => {
        const revoked = info.error instanceof ParleyError && info.error.code === 'UNAUTHENTICATED';
        setStatus(revoked || !info.willReconnect ? 'revoked' : 'offline');
      }),
    ];
    // The browser knows first when the network is gone (the socket is then given up too).
    const offline = () => setStatus((s) => (s === 'revoked' ? s : 'offline'));
    addEventListener('offline', offline);
    if (client.connected) setStatus('online');
    return () => {
      removeEventListener('offline', offline);
      for (const stop of stops) stop();
    };
  }, [client]);
  return status;
}

/** Shown only while not connected. */
export function ConnectionBanner({ status }: { status: Status }) {
  return (
    <p role="status" aria-live="polite" class={status === 'online' ? 'visually-hidden' : `banner ${status}`}>
      {status === 'online' ? '' : STATUS_TEXT[status]}
    </p>
  );
}
