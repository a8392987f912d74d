/** HTTP helpers of the media access and retention tests: upload, ask for a URL, download. */
import { createHash } from 'node:crypto';

export const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export async function putMedia(
  url: string,
  token: string,
  body: Uint8Array,
  headers: Record<string, string> = {},
): Promise<string> {
  const id = sha(body);
  const res = await fetch(`${url}/v1/media/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', ...headers },
    body,
  });
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  return id;
}

export interface Answer {
  status: number;
  code: string | undefined;
  json: Record<string, unknown> | undefined;
  bytes: Uint8Array;
}

async function answer(res: Response): Promise<Answer> {
  const bytes = new Uint8Array(await res.arrayBuffer());
  let json: Record<string, unknown> | undefined;
  if ((res.headers.get('content-type') ?? '').includes('json'))
    json = JSON.parse(new TextDecoder().decode(bytes));
  const code = (json?.error as { code?: string } | undefined)?.code;
  return { status: res.status, code, json, bytes };
}

/** POST /v1/media/:id/url. */
export async function askUrl(url: string, token: string, id: string): Promise<Answer> {
  return answer(
    await fetch(`${url}/v1/media/${id}/url`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    }),
  );
}

/** The signed URL (path and query) the node issued, or throws with the refusal. */
export async function signedUrl(url: string, token: string, id: string): Promise<string> {
  const a = await askUrl(url, token, id);
  if (a.status !== 200) throw new Error(`no URL: ${a.status} ${a.code}`);
  return String(a.json?.url);
}

/** GET a path (a signed URL, or /v1/media/<id>) with a device's token. */
export async function getMedia(
  url: string,
  path: string,
  token: string | undefined,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return answer(
    await fetch(`${url}${path}`, {
      headers: { ...(token && { authorization: `Bearer ${token}` }), ...headers },
    }),
  );
}
