/** A Google service-account JSON key, checked at the boundary: only the fields FCM needs. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';

const serviceAccountSchema = z.object({
  type: z.literal('service_account'),
  project_id: z.string().regex(/^[a-z0-9-]{1,64}$/, 'a Firebase project id'),
  private_key_id: z.string().max(200).optional(),
  private_key: z.string().min(1),
  client_email: z.string().email(),
  token_uri: z.string().regex(/^https?:\/\/[^\s]+$/),
});

export interface ServiceAccount {
  projectId: string;
  clientEmail: string;
  privateKeyId?: string;
  key: KeyObject;
  tokenUri: string;
}

/** Parses the JSON text, or throws an Error naming the field at fault (never its value). */
export function parseServiceAccount(json: string): ServiceAccount {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new Error('the FCM service account is not JSON');
  }
  const r = serviceAccountSchema.safeParse(raw);
  if (!r.success) {
    const fields = [...new Set(r.error.issues.map((i) => i.path.join('.') || '(root)'))].join(', ');
    throw new Error(`the FCM service account JSON has a bad or missing ${fields}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(r.data.private_key);
  } catch {
    throw new Error('the FCM service account private_key is not a PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw new Error('the FCM service account private_key is not an RSA key');
  return {
    projectId: r.data.project_id,
    clientEmail: r.data.client_email,
    ...(r.data.private_key_id !== undefined && { privateKeyId: r.data.private_key_id }),
    key,
    tokenUri: r.data.token_uri,
  };
}
