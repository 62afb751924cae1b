/**
 * A software WebAuthn authenticator (ES256, "none" attestation) for API-level tests: builds
 * registration and assertion responses exactly as a browser serialises them, with a counter
 * the test controls (to present a cloned authenticator's lower counter).
 */
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from "node:crypto";

const b64u = (b: Uint8Array | Buffer) => Buffer.from(b).toString("base64url");

/** Minimal CBOR: unsigned/negative ints, byte and text strings, maps (what COSE keys and attestation objects need). */
function cbor(v: unknown): Buffer {
  const head = (major: number, n: number): Buffer => {
    if (n < 24) return Buffer.from([(major << 5) | n]);
    if (n < 256) return Buffer.from([(major << 5) | 24, n]);
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(n, 1);
    return b;
  };
  if (typeof v === "number") return v >= 0 ? head(0, v) : head(1, -1 - v);
  if (typeof v === "string") return Buffer.concat([head(3, Buffer.byteLength(v)), Buffer.from(v)]);
  if (v instanceof Uint8Array) return Buffer.concat([head(2, v.length), Buffer.from(v)]);
  if (v instanceof Map) return Buffer.concat([head(5, v.size), ...[...v].flatMap(([k, x]) => [cbor(k), cbor(x)])]);
  throw new Error("cbor: unsupported value");
}

/** One credential on the soft authenticator. */
export class SoftPasskey {
  readonly id = randomBytes(16);
  readonly #key: KeyObject;
  readonly #publicJwk: { x: string; y: string };
  counter = 0;

  constructor(
    readonly rpId: string,
    readonly origin: string,
    readonly userHandle: string,
  ) {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    this.#key = privateKey;
    this.#publicJwk = publicKey.export({ format: "jwk" }) as { x: string; y: string };
  }

  #authData(flags: number, counter: number, attested: Buffer | null): Buffer {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    const rpIdHash = createHash("sha256").update(this.rpId).digest();
    return Buffer.concat([rpIdHash, Buffer.from([flags | (attested ? 0x40 : 0)]), c, attested ?? Buffer.alloc(0)]);
  }

  #clientData(type: string, challenge: string): Buffer {
    return Buffer.from(JSON.stringify({ type, challenge, origin: this.origin, crossOrigin: false }));
  }

  /** The browser's JSON for `navigator.credentials.create` answering `options` (user present and verified). */
  register(options: { challenge: string }): Record<string, unknown> {
    const cose = cbor(new Map<number, unknown>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(this.#publicJwk.x, "base64url")], [-3, Buffer.from(this.#publicJwk.y, "base64url")]]));
    const idLen = Buffer.alloc(2);
    idLen.writeUInt16BE(this.id.length);
    const attested = Buffer.concat([Buffer.alloc(16), idLen, this.id, cose]);
    const authData = this.#authData(0x01 | 0x04, this.counter, attested);
    const attestationObject = cbor(new Map<string, unknown>([["fmt", "none"], ["attStmt", new Map()], ["authData", authData]]));
    return {
      id: b64u(this.id), rawId: b64u(this.id), type: "public-key",
      response: { clientDataJSON: b64u(this.#clientData("webauthn.create", options.challenge)), attestationObject: b64u(attestationObject), transports: ["internal"] },
      clientExtensionResults: {}, authenticatorAttachment: "platform",
    };
  }

  /** The browser's JSON for `navigator.credentials.get`; the counter goes up by one unless `counter` is given. */
  assert(options: { challenge: string }, counter = ++this.counter): Record<string, unknown> {
    const authData = this.#authData(0x01 | 0x04, counter, null);
    const clientData = this.#clientData("webauthn.get", options.challenge);
    const signature = sign("sha256", Buffer.concat([authData, createHash("sha256").update(clientData).digest()]), this.#key);
    return {
      id: b64u(this.id), rawId: b64u(this.id), type: "public-key",
      response: { clientDataJSON: b64u(clientData), authenticatorData: b64u(authData), signature: b64u(signature), userHandle: b64u(Buffer.from(this.userHandle)) },
      clientExtensionResults: {}, authenticatorAttachment: "platform",
    };
  }
}
