import type { KeyValueStore } from "../kv/store.ts";
import { decodeBase64Url, encodeBase64Url } from "../crypto/base64url.ts";

/** What a challenge was issued for. */
export interface ChallengeRecord {
  purpose: "register" | "authenticate" | "second_factor";
  /** The user it was issued to (registration, second factor); absent for passwordless. */
  userId?: string;
}

/** Five minutes, WebAuthn's usual ceremony timeout. */
export const CHALLENGE_TTL_MS = 300_000;

/**
 * WebAuthn challenges: random, kept in the shared store for {@link CHALLENGE_TTL_MS}, and
 * consumed by exactly one verification (GET, then DEL that only one caller wins).
 */
export class WebAuthnChallenges {
  constructor(private readonly store: KeyValueStore) {}

  /** A fresh challenge (base64url) recorded for `record`. */
  async issue(record: ChallengeRecord): Promise<string> {
    const challenge = encodeBase64Url(crypto.getRandomValues(new Uint8Array(32)));
    await this.store.set(`webauthn:challenge:${challenge}`, JSON.stringify(record), { ttlMs: CHALLENGE_TTL_MS });
    return challenge;
  }

  /** The challenge a client response answers (from its `clientDataJSON`), or null when unreadable. */
  static challengeOf(response: unknown): string | null {
    const cdj = (response as { response?: { clientDataJSON?: unknown } } | null)?.response?.clientDataJSON;
    if (typeof cdj !== "string" || cdj.length > 4096) return null;
    const bytes = decodeBase64Url(cdj);
    if (!bytes) return null;
    try {
      const c = (JSON.parse(new TextDecoder().decode(bytes)) as { challenge?: unknown }).challenge;
      return typeof c === "string" && c.length <= 128 ? c : null;
    } catch {
      return null;
    }
  }

  /** Takes the challenge out of the store; null when unknown, expired or already used. */
  async consume(challenge: string): Promise<ChallengeRecord | null> {
    const key = `webauthn:challenge:${challenge}`;
    const raw = await this.store.get(key);
    if (raw === null || (await this.store.del(key)) !== 1) return null;
    return JSON.parse(raw) as ChallengeRecord;
  }
}
