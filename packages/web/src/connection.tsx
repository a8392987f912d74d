/**
 * The socket's state as the screens show it: the chat list's status line, and in a chat a
 * banner (role="status", announced) while the socket is down, gone once it is back.
 */
import { ParleyError } from '@parley/sdk/browser';
import { useEffect, useState } from 'preact/hooks';
import type { WebDevice } from './device.js';

export type Status = 'connecting' | 'online' | 'offline' | 'revoked';

export const STATUS_TEXT: Record<Status, string> = {
  connecting: 'Connecting…',
  online: 'Connected',
  offline: 'Offline, reconnecting…',
  revoked: 'This browser was signed out.',
};

/**
 * Follows the device's start, the client's connected / disconnected events and the browser's online / offline
 * ones; while not connected it also looks again every second, so what shows never lags the
 * socket whatever order the events came in.
 */
export function useConnection(device: WebDevice): Status {
  const client = device.client;
  const [status, setStatus] = useState<Status>('connecting');
  useEffect(() => {
    let revoked = false;
    // "Connected" once the device is ready for others too: its keys are on the node.
    let started = false;
    let dropped = false;
    const update = () => {
      if (revoked) setStatus('revoked');
      else if (!navigator.onLine) setStatus('offline');
      else if (client.connected && started) setStatus('online');
      else setStatus(dropped ? 'offline' : 'connecting');
    };
    const stops = [
      client.on('connected', update),
      client.on('disconnected', (info) => {
        dropped = true;
        revoked =
          (info.error instanceof ParleyError && info.error.code === 'UNAUTHENTICATED') || !info.willReconnect;
        update();
      }),
    ];
    addEventListener('offline', update);
    addEventListener('online', update);
    const timer = setInterval(update, 1000);
    device.started.then(
      () => {
        started = true;
        update();
      },
      () => {},
    );
    update();
    return () => {
      clearInterval(timer);
      removeEventListener('offline', update);
      removeEventListener('online', update);
      for (const stop of stops) stop();
    };
  }, [device, client]);
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
