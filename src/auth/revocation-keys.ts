import type { RevocationKeys } from "./store-reseed.ts";

/** Logical key of a revoked token (Open WebUI's layout; the store adds the prefix). */
export const tokenRevokedKey = (jti: string) => `auth:token:${jti}:revoked`;
/** Logical key of a user's `revoked_at` (Open WebUI's layout; the store adds the prefix). */
export const userRevokedAtKey = (userId: string) => `auth:user:${userId}:revoked_at`;
/** Where instances tell each other about revocations they made. */
export const REVOCATION_CHANNEL = "auth:revocations";

// A token with no exp must stay revocable as long as it could be presented; ten years is "forever" here.
/** Lifetime of a per-user key and of a token key with no `exp`, in seconds. */
export const NO_EXP_TTL_SECONDS = 10 * 365 * 86400;

/** Open WebUI's key layout with Gatehouse's lifetimes, for re-seeding. */
export const REVOCATION_KEYS: RevocationKeys = {
  token: (tokenId, expiresAt) => ({ key: tokenRevokedKey(tokenId), ttlMs: ttlSeconds(expiresAt, Date.now() / 1000) * 1000 }),
  user: (userId) => ({ key: userRevokedAtKey(userId), ttlMs: NO_EXP_TTL_SECONDS * 1000 }),
};

/** How long a token revocation key must live: until `exp` (null: "forever"). */
export function ttlSeconds(exp: number | null, nowSeconds: number): number {
  return exp === null ? NO_EXP_TTL_SECONDS : Math.max(1, Math.ceil(exp - nowSeconds));
}

/** Which revocation a watched key names: a token's jti, a user's id, or null for any other key. */
export function parseRevocationKey(key: string): { jti: string } | { userId: string } | null {
  const token = /^auth:token:(.+):revoked$/.exec(key);
  if (token) return { jti: token[1]! };
  const user = /^auth:user:(.+):revoked_at$/.exec(key);
  return user ? { userId: user[1]! } : null;
}
