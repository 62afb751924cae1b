/**
 * Fernet (version 0x80: AES-128-CBC + HMAC-SHA256, URL-safe base64 with padding) on WebCrypto,
 * byte-compatible with Python's `cryptography.fernet`, which Open WebUI uses for
 * `oauth_session.token`.
 *
 * Deliberate differences from Python, none of which changes what is accepted from an honest
 * peer: the MAC is checked before the timestamp, so `ERR_FERNET_EXPIRED` is only reported for
 * authentic tokens; base64 is strict (Python silently skips stray characters); the plaintext
 * must be UTF-8 because this API returns a string.
 */
import { decodeBase64Url, encodeBase64Url } from "./base64url.ts";
import { FernetError } from "./errors.ts";
import { KeyCache } from "./key-cache.ts";

/** Options for {@link fernetEncrypt}; both exist for reproducible vectors and tests. */
export interface FernetEncryptOptions {
  /** Token timestamp, unix seconds (default: now). */
  now?: number;
  /** The 16-byte IV (default: random). Never pass a fixed IV outside tests. */
  iv?: Uint8Array;
}

/** Options for {@link fernetDecrypt}. */
export interface FernetDecryptOptions {
  /** Maximum token age in seconds. Without it, as in Python, no time check is made at all. */
  ttlSeconds?: number;
  /** Current time, unix seconds (default: now). */
  now?: number;
}

/** Python's `_MAX_CLOCK_SKEW`: with a ttl, tokens up to 60 s in the future are still accepted. */
const MAX_CLOCK_SKEW_SECONDS = 60;
const VERSION = 0x80;
const HEADER_BYTES = 1 + 8 + 16;
const MAC_BYTES = 32;
const BLOCK = 16;

interface FernetKeys {
  readonly mac: CryptoKey;
  readonly aes: CryptoKey;
}

const keyCache = new KeyCache<FernetKeys>(16);
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The Fernet key Open WebUI derives from `OAUTH_SESSION_TOKEN_ENCRYPTION_KEY` / `WEBUI_SECRET_KEY`:
 * a value of exactly 44 characters (Python `len`, i.e. code points) is used verbatim, anything
 * else becomes `base64url(sha256(utf8(source)))` with padding.
 */
export async function deriveFernetKey(source: string): Promise<string> {
  if ([...source].length === 44) return source;
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(source));
  return encodeBase64Url(new Uint8Array(digest), true);
}

/** Encrypts UTF-8 `plaintext` into a Fernet token (padded URL-safe base64, as Python writes it). */
export async function fernetEncrypt(
  key: string,
  plaintext: string,
  opts: FernetEncryptOptions = {},
): Promise<string> {
  const keys = await importFernetKey(key);
  const now = Math.floor(opts.now ?? Date.now() / 1000);
  if (!Number.isSafeInteger(now) || now < 0) throw new TypeError("Fernet timestamp must be a non-negative integer");
  const iv = opts.iv === undefined ? crypto.getRandomValues(new Uint8Array(BLOCK)) : Uint8Array.from(opts.iv);
  if (iv.length !== BLOCK) throw new TypeError("Fernet IV must be 16 bytes");

  const ciphertext = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-CBC", iv }, keys.aes, encoder.encode(plaintext)),
  );
  const signed = new Uint8Array(HEADER_BYTES + ciphertext.length + MAC_BYTES);
  signed[0] = VERSION;
  new DataView(signed.buffer).setBigUint64(1, BigInt(now), false);
  signed.set(iv, 9);
  signed.set(ciphertext, HEADER_BYTES);
  const body = signed.subarray(0, signed.length - MAC_BYTES);
  const mac = await crypto.subtle.sign("HMAC", keys.mac, body);
  signed.set(new Uint8Array(mac), body.length);
  return encodeBase64Url(signed, true);
}

/**
 * Decrypts a Fernet token to its UTF-8 plaintext. Throws {@link FernetError}: `ERR_FERNET_KEY`
 * for an unusable key, `ERR_FERNET_EXPIRED` when `ttlSeconds` is given and the authentic token
 * is older, `ERR_FERNET_INVALID` for everything else (including a timestamp more than 60 s in
 * the future when `ttlSeconds` is given, as Python does).
 */
export async function fernetDecrypt(
  key: string,
  token: string,
  opts: FernetDecryptOptions = {},
): Promise<string> {
  const keys = await importFernetKey(key);
  const data = typeof token === "string" ? decodeBase64Url(token, true) : null;
  if (
    data === null ||
    data.length < HEADER_BYTES + BLOCK + MAC_BYTES ||
    (data.length - HEADER_BYTES - MAC_BYTES) % BLOCK !== 0 ||
    data[0] !== VERSION
  ) {
    throw new FernetError("ERR_FERNET_INVALID");
  }
  const body = data.subarray(0, data.length - MAC_BYTES);
  const authentic = await crypto.subtle.verify("HMAC", keys.mac, data.subarray(body.length), body);
  if (!authentic) throw new FernetError("ERR_FERNET_INVALID");

  if (opts.ttlSeconds !== undefined) {
    const timestamp = Number(new DataView(data.buffer, data.byteOffset).getBigUint64(1, false));
    const now = Math.floor(opts.now ?? Date.now() / 1000);
    if (timestamp + opts.ttlSeconds < now) throw new FernetError("ERR_FERNET_EXPIRED");
    if (now + MAX_CLOCK_SKEW_SECONDS < timestamp) throw new FernetError("ERR_FERNET_INVALID");
  }

  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-CBC", iv: data.subarray(9, HEADER_BYTES) },
      keys.aes,
      body.subarray(HEADER_BYTES),
    );
    return decoder.decode(plain);
  } catch {
    // WebCrypto reports bad PKCS#7 padding as an OperationError; the decoder, bad UTF-8.
    throw new FernetError("ERR_FERNET_INVALID");
  }
}

/** Splits and imports a Fernet key (first 16 bytes sign, last 16 encrypt); cached per key string. */
function importFernetKey(key: string): Promise<FernetKeys> {
  if (typeof key !== "string" || key.length !== 44) return Promise.reject(new FernetError("ERR_FERNET_KEY"));
  return keyCache.get(key, async () => {
    const raw = decodeBase64Url(key, true);
    if (raw === null || raw.length !== 32) throw new FernetError("ERR_FERNET_KEY");
    const [mac, aes] = await Promise.all([
      crypto.subtle.importKey("raw", raw.slice(0, 16), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]),
      crypto.subtle.importKey("raw", raw.slice(16), { name: "AES-CBC" }, false, ["encrypt", "decrypt"]),
    ]);
    return { mac, aes };
  });
}
