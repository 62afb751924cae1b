/**
 * The set of asymmetric keys for session tokens, newest first: the newest unretired private key
 * signs, every key verifies until it is retired past its `notAfter`.
 *
 * Rotation without logging anyone out:
 * 1. `rotate(newKey)` — new tokens are signed with the new key; old tokens still verify.
 * 2. `retire(oldKid, now + longest token lifetime)` — the old key signs nothing and verifies
 *    only until `notAfter` (unix seconds, inclusive); after it, its tokens are refused even if
 *    their `exp` is later or absent. Tokens without `exp` die with their key: that is the point.
 * 3. `remove(oldKid)` once `notAfter` has passed (optional; a retired key is inert after it).
 */
import {
  importVerificationKey,
  SigningKey,
  type AsymmetricAlg,
  type KeyMaterial,
  type VerificationKey,
} from "./signing-key.ts";
import { SigningKeyError } from "../errors.ts";

/** One configured key; a `notAfter` marks it retired. */
export interface KeyRingEntry {
  readonly key: KeyMaterial;
  /** Retired: refuse its tokens once now > notAfter (unix seconds). */
  readonly notAfter?: number;
}

/** A key in the ring with its retirement, if any. */
export interface RingKey {
  readonly key: SigningKey | VerificationKey;
  readonly notAfter: number | undefined;
}

/** Plain, structured-cloneable verification input (e.g. for a worker thread). */
export interface VerificationMaterial {
  /** A public (or private) JWK, or PEM text. */
  readonly jwk: KeyMaterial;
  readonly notAfter?: number;
}

/** See the module comment for the rotation procedure. */
export class KeyRing {
  #keys: RingKey[];
  #version = 0;

  private constructor(
    readonly alg: AsymmetricAlg,
    keys: RingKey[],
  ) {
    this.#keys = keys;
  }

  /**
   * Builds a ring from configured entries, newest first. Entries with private material can
   * sign; public-only entries (JWK or SPKI PEM) only verify.
   */
  static async from(alg: AsymmetricAlg, entries: readonly (KeyMaterial | KeyRingEntry)[]): Promise<KeyRing> {
    const keys = await Promise.all(
      entries.map(async (entry): Promise<RingKey> => {
        const { key, notAfter } = isEntry(entry) ? entry : { key: entry, notAfter: undefined };
        checkNotAfter(notAfter);
        return { key: await importAny(alg, key), notAfter };
      }),
    );
    const ring = new KeyRing(alg, dedupe(keys));
    if (ring.#keys.length === 0) throw new SigningKeyError("ERR_SIGNING_KEY_MISSING");
    return ring;
  }

  /** The key new tokens are signed with: the newest unretired private key. */
  get current(): SigningKey {
    for (const k of this.#keys) {
      if (k.notAfter === undefined && k.key instanceof SigningKey) return k.key;
    }
    throw new SigningKeyError("ERR_SIGNING_KEY_MISSING");
  }

  /** Every key that may verify, newest first, retired ones included. */
  get verifiers(): readonly RingKey[] {
    return [...this.#keys];
  }

  /** Bumped on every change, so caches of verified tokens know to look again. */
  get version(): number {
    return this.#version;
  }

  /** The key named `kid`, if present. */
  find(kid: string): RingKey | undefined {
    return this.#keys.find((k) => k.key.kid === kid);
  }

  /**
   * Makes `material` (a private key, or a {@link SigningKey}) the current signer; previous keys
   * keep verifying. Rotating to a key already in the ring moves it to the front, unretired.
   */
  async rotate(material: KeyMaterial | SigningKey): Promise<SigningKey> {
    const key = material instanceof SigningKey ? material : await SigningKey.import(this.alg, material);
    if (key.alg !== this.alg) throw new SigningKeyError();
    this.#keys = [{ key, notAfter: undefined }, ...this.#keys.filter((k) => k.key.kid !== key.kid)];
    this.#version++;
    return key;
  }

  /** Retires `kid`: it no longer signs, and verifies only while now ≤ `notAfter`. */
  retire(kid: string, notAfter: number): void {
    checkNotAfter(notAfter);
    const i = this.#keys.findIndex((k) => k.key.kid === kid);
    const found = this.#keys[i];
    if (found === undefined) throw new SigningKeyError("ERR_SIGNING_KEY_MISSING");
    this.#keys = this.#keys.with(i, { key: found.key, notAfter });
    this.#version++;
  }

  /** Drops `kid` entirely; its tokens are refused from now on. Returns whether it was present. */
  remove(kid: string): boolean {
    const before = this.#keys.length;
    this.#keys = this.#keys.filter((k) => k.key.kid !== kid);
    if (this.#keys.length === before) return false;
    this.#version++;
    return true;
  }

  /** Public keys and retirements as plain data, for `verifySessionTokenWith` in a worker. */
  verificationMaterial(): VerificationMaterial[] {
    return this.#keys.map((k) =>
      k.notAfter === undefined ? { jwk: { ...k.key.publicJwk } } : { jwk: { ...k.key.publicJwk }, notAfter: k.notAfter },
    );
  }
}

function isEntry(v: KeyMaterial | KeyRingEntry): v is KeyRingEntry {
  return typeof v === "object" && v !== null && "key" in v;
}

function checkNotAfter(notAfter: number | undefined): void {
  if (notAfter !== undefined && !Number.isFinite(notAfter)) throw new TypeError("notAfter must be unix seconds");
}

/** Private material becomes a SigningKey; public-only material a VerificationKey. */
async function importAny(alg: AsymmetricAlg, material: KeyMaterial): Promise<SigningKey | VerificationKey> {
  const isPrivate =
    typeof material === "string"
      ? material.trim().startsWith("-----BEGIN PRIVATE KEY-----") || /"d"\s*:/.test(material)
      : typeof material.d === "string";
  return isPrivate ? SigningKey.import(alg, material) : importVerificationKey(alg, material);
}

/** Keeps the first (newest) occurrence of each kid. */
function dedupe(keys: RingKey[]): RingKey[] {
  const seen = new Set<string>();
  return keys.filter((k) => {
    if (seen.has(k.key.kid)) return false;
    seen.add(k.key.kid);
    return true;
  });
}
