// The one place the UI talks to keytally: GET /api/v1/... on this origin, with the bearer token when one was given.
const TOKEN_KEY = 'keytally.token';

export class ApiError extends Error {
  constructor(status, message, url) {
    super(message);
    this.status = status;
    this.url = url;
  }
}

const authListeners = new Set();
export function onAuthNeeded(fn) {
  authListeners.add(fn);
  return () => authListeners.delete(fn);
}

// sessionStorage: asked once per tab session, gone when the tab closes; memory when storage is disabled.
let memoryToken = '';

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? memoryToken;
  } catch {
    return memoryToken;
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // storage disabled: the token lives as long as the page (memory fallback below)
  }
  memoryToken = token;
}

/** Query string from an object, leaving out empty values (the API treats empty as absent anyway). */
export function query(params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `?${s}` : '';
}

/** A path segment: names may hold '/', '?', '#' (metric names like http/server/duration). */
export const seg = (s) => encodeURIComponent(s);

export async function api(path, params) {
  const url = `/api/v1${path}${query(params)}`;
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let res;
  try {
    res = await fetch(url, { headers, credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new ApiError(0, `keytally did not answer (${err.message}). Is it still running?`, url);
  }
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (res.status === 401) {
    for (const fn of authListeners) fn(Boolean(token));
    throw new ApiError(401, body?.error ?? 'this keytally needs a token', url);
  }
  if (!res.ok) throw new ApiError(res.status, body?.error ?? `HTTP ${res.status}`, url);
  if (body === undefined) throw new ApiError(res.status, 'the API answered something that is not JSON', url);
  return body;
}
