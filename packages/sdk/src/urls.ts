/**
 * URL building for the HTTP API and the WebSocket endpoint. Pure functions: a server URL
 * may carry a path prefix (`https://host/parley`), which every endpoint keeps.
 */

/** Normalizes a server URL: must be http(s); drops a trailing slash, query and fragment. */
export function normalizeServerUrl(serverUrl: string): string {
  let url: URL;
  try {
    url = new URL(serverUrl);
  } catch {
    throw new TypeError(`not a valid server URL: ${serverUrl}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(`server URL must start with http:// or https://: ${serverUrl}`);
  }
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '');
}

/** `<serverUrl><path>`, e.g. apiUrl('http://h:8080/', '/v1/devices') → 'http://h:8080/v1/devices'. */
export function apiUrl(serverUrl: string, path: string): string {
  return normalizeServerUrl(serverUrl) + path;
}

/** The WebSocket endpoint: http → ws, https → wss, path `/v1/ws`. */
export function webSocketUrl(serverUrl: string): string {
  return apiUrl(serverUrl, '/v1/ws').replace(/^http/, 'ws');
}

/** Adds `?token=` for transports that cannot set headers (browsers). */
export function withTokenQuery(url: string, token: string): string {
  const u = new URL(url);
  u.searchParams.set('token', token);
  return u.toString();
}
