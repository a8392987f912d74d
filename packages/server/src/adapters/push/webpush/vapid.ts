/** VAPID keys for Web Push: a P-256 key pair, base64url (65-byte public point, 32-byte private scalar). */
import webpush from 'web-push';

export interface VapidKeys {
  publicKey: string;
  privateKey: string;
}

/** A new VAPID key pair; the pipeline keeps one in the data dir when none is configured. */
export function generateVapidKeys(): VapidKeys {
  const { publicKey, privateKey } = webpush.generateVAPIDKeys();
  return { publicKey, privateKey };
}
