/**
 * Asymmetric session-token keys (EdDSA / ES256 / RS256): importing PKCS#8 PEM or JWK, generating,
 * and naming them by RFC 7638 thumbprint. jose does the parsing; every failure becomes a
 * {@link SigningKeyError} so no library message (which may quote input) escapes.
 */
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, importPKCS8, importSPKI } from "jose";
import { SigningKeyError } from "../errors.ts";

/** Algorithms a session token may be configured with (`GATEHOUSE_JWT_ALG`). */
export type SessionAlg = "HS256" | "EdDSA" | "ES256" | "RS256";
/** The asymmetric subset, handled through jose and a {@link KeyRing}. */
export type AsymmetricAlg = Exclude<SessionAlg, "HS256">;

/** Key material as configured: PKCS#8 PEM text, JWK JSON text, or a JWK object. */
export type KeyMaterial = string | JsonWebKey;

/** A public key that verifies tokens whose header carries its `kid`. */
export interface VerificationKey {
  readonly alg: AsymmetricAlg;
  /** RFC 7638 SHA-256 thumbprint of the public key. */
  readonly kid: string;
  readonly publicKey: CryptoKey;
  /** Public members only, plus `kid`, `alg`, `use: "sig"`. */
  readonly publicJwk: Readonly<JsonWebKey>;
}

/** Whether `alg` is one of the asymmetric {@link SessionAlg}s. */
export function isAsymmetricAlg(alg: unknown): alg is AsymmetricAlg {
  return alg === "EdDSA" || alg === "ES256" || alg === "RS256";
}

const KEY_TYPES: Record<AsymmetricAlg, { kty: string; crv?: string }> = {
  EdDSA: { kty: "OKP", crv: "Ed25519" },
  ES256: { kty: "EC", crv: "P-256" },
  RS256: { kty: "RSA" },
};
const PUBLIC_MEMBERS = ["kty", "crv", "x", "y", "n", "e"] as const;
const PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi"] as const;

/**
 * A private signing key and its public half. The private JWK is held in a private field so that
 * logging or serialising a `SigningKey` shows nothing secret; {@link SigningKey.exportPrivateJwk}
 * is the one deliberate way out (for persisting a generated key or handing it to a worker).
 */
export class SigningKey implements VerificationKey {
  readonly #privateJwk: JsonWebKey;

  private constructor(
    readonly alg: AsymmetricAlg,
    readonly kid: string,
    readonly privateKey: CryptoKey,
    readonly publicKey: CryptoKey,
    readonly publicJwk: Readonly<JsonWebKey>,
    privateJwk: JsonWebKey,
  ) {
    this.#privateJwk = privateJwk;
  }

  /** Imports a private key (PKCS#8 PEM or private JWK) for `alg`. */
  static async import(alg: AsymmetricAlg, material: KeyMaterial): Promise<SigningKey> {
    try {
      const jwk = await toJwk(alg, material);
      if (!isAsymmetricAlg(alg) || typeof jwk.d !== "string") throw new SigningKeyError();
      const keyOnly = pick(jwk, [...PUBLIC_MEMBERS, ...PRIVATE_MEMBERS]);
      const publicJwk = await describePublic(alg, jwk);
      const [privateKey, publicKey] = await Promise.all([
        importJWK({ ...keyOnly, ext: false }, alg),
        importJWK(pick(jwk, PUBLIC_MEMBERS), alg),
      ]);
      if (!(privateKey instanceof CryptoKey) || !(publicKey instanceof CryptoKey)) throw new SigningKeyError();
      const privateJwk = { ...keyOnly, kid: publicJwk.kid, alg, use: "sig" } as JsonWebKey;
      return new SigningKey(alg, publicJwk.kid, privateKey, publicKey, Object.freeze(publicJwk), privateJwk);
    } catch (e) {
      throw e instanceof SigningKeyError ? e : new SigningKeyError();
    }
  }

  /** A fresh key (Ed25519, P-256, or RSA 2048). */
  static async generate(alg: AsymmetricAlg): Promise<SigningKey> {
    if (!isAsymmetricAlg(alg)) throw new SigningKeyError();
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    return SigningKey.import(alg, await exportJWK(privateKey));
  }

  /** The private JWK (with `kid`, `alg`, `use`). Treat the result as a secret. */
  exportPrivateJwk(): JsonWebKey {
    return { ...this.#privateJwk };
  }
}

/**
 * Imports a key for verification only: a public or private JWK, SPKI public PEM, or PKCS#8 PEM.
 * Private members are discarded at once.
 */
export async function importVerificationKey(alg: AsymmetricAlg, material: KeyMaterial): Promise<VerificationKey> {
  try {
    const jwk = await toJwk(alg, material);
    if (!isAsymmetricAlg(alg)) throw new SigningKeyError();
    const publicJwk = await describePublic(alg, jwk);
    const publicKey = await importJWK(pick(jwk, PUBLIC_MEMBERS), alg);
    if (!(publicKey instanceof CryptoKey)) throw new SigningKeyError();
    return { alg, kid: publicJwk.kid, publicKey, publicJwk: Object.freeze(publicJwk) };
  } catch (e) {
    throw e instanceof SigningKeyError ? e : new SigningKeyError();
  }
}

/**
 * Generates a signing key for `alg`. The caller persists `privateJwk` (e.g. under the data dir)
 * and passes it back as key material on the next start.
 */
export async function generateSigningKey(alg: AsymmetricAlg): Promise<{ privateJwk: JsonWebKey; kid: string }> {
  const key = await SigningKey.generate(alg);
  return { privateJwk: key.exportPrivateJwk(), kid: key.kid };
}

/** Material → JWK object, checking that its key type fits `alg`. */
async function toJwk(alg: AsymmetricAlg, material: KeyMaterial): Promise<JsonWebKey> {
  let jwk: JsonWebKey;
  if (typeof material === "string") {
    const text = material.trim();
    if (text.startsWith("-----BEGIN PRIVATE KEY-----")) {
      jwk = await exportJWK(await importPKCS8(text, alg, { extractable: true }));
    } else if (text.startsWith("-----BEGIN PUBLIC KEY-----")) {
      jwk = await exportJWK(await importSPKI(text, alg, { extractable: true }));
    } else {
      jwk = JSON.parse(text) as JsonWebKey;
    }
  } else {
    jwk = material;
  }
  if (typeof jwk !== "object" || jwk === null) throw new SigningKeyError();
  const want = KEY_TYPES[alg];
  const declaredAlg = jwk.alg === "Ed25519" ? "EdDSA" : jwk.alg;
  if (
    jwk.kty !== want.kty ||
    (want.crv !== undefined && jwk.crv !== want.crv) ||
    (declaredAlg !== undefined && declaredAlg !== alg) ||
    (jwk.use !== undefined && jwk.use !== "sig")
  ) {
    throw new SigningKeyError();
  }
  return jwk;
}

/** The public JWK as published: whitelisted public members, thumbprint `kid`, `alg`, `use`. */
async function describePublic(alg: AsymmetricAlg, jwk: JsonWebKey): Promise<JsonWebKey & { kid: string }> {
  const pub = pick(jwk, PUBLIC_MEMBERS);
  const kid = await calculateJwkThumbprint(pub as Parameters<typeof calculateJwkThumbprint>[0], "sha256");
  return { ...pub, kid, alg, use: "sig" };
}

function pick(jwk: JsonWebKey, members: readonly string[]): JsonWebKey {
  const out: Record<string, unknown> = {};
  for (const m of members) {
    const v = (jwk as Record<string, unknown>)[m];
    if (v !== undefined) out[m] = v;
  }
  return out as JsonWebKey;
}
