import { timingSafeEqual } from 'node:crypto';

/** True when no token is configured, or the Authorization header carries it as a bearer token. */
export function checkBearer(token: string | undefined, header: string): boolean {
  if (!token) return true;
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (!m) return false;
  const a = Buffer.from(m[1]!);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
