/**
 * Structural parsing of compact JWS tokens (RFC 7515 §7.1), done before any crypto. Every
 * failure is a {@link TokenError} `ERR_TOKEN_MALFORMED`; nothing here throws a raw exception for
 * untrusted input.
 */
import { decodeBase64Url } from "../base64url.ts";
import { TokenError } from "../errors.ts";

/** Longest token accepted; longer ones are refused before decoding (session tokens are ~250 B). */
export const MAX_TOKEN_LENGTH = 8192;

/** A compact JWS split into its parts; nothing in it is authenticated yet. */
export interface ParsedJws {
  readonly alg: string;
  readonly kid: string | undefined;
  readonly payload: Readonly<Record<string, unknown>>;
  /** ASCII bytes of `header.payload`, the JWS signing input. */
  readonly signingInput: Uint8Array<ArrayBuffer>;
  readonly signature: Uint8Array<ArrayBuffer>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** Parsed headers by segment: real deployments see one or two distinct header segments. */
const headerMemo = new Map<string, { alg: string; kid: string | undefined }>();
const HEADER_MEMO_MAX = 64;

/** Splits and decodes a compact JWS, checking only its shape. */
export function parseCompactJws(token: unknown): ParsedJws {
  if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) throw malformed();
  const dot1 = token.indexOf(".");
  const dot2 = token.indexOf(".", dot1 + 1);
  if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf(".", dot2 + 1) !== -1) throw malformed();

  const headerSegment = token.slice(0, dot1);
  const { alg, kid } = headerMemo.get(headerSegment) ?? parseHeader(headerSegment);
  const payload = jsonObject(token.slice(dot1 + 1, dot2));
  const signature = decodeBase64Url(token.slice(dot2 + 1));
  // An empty signature (`alg: none`) parses, so that it is refused for its alg, not its shape.
  if (signature === null) throw malformed();
  return {
    alg,
    kid,
    payload,
    signingInput: encoder.encode(token.slice(0, dot2)),
    signature,
  };
}

function parseHeader(segment: string): { alg: string; kid: string | undefined } {
  const header = jsonObject(segment);
  const { alg, kid } = header;
  // We implement no JWS extensions, so any `crit` (RFC 7515 §4.1.11) must be refused.
  if (typeof alg !== "string" || alg === "" || Object.hasOwn(header, "crit")) throw malformed();
  if (kid !== undefined && typeof kid !== "string") throw malformed();
  const parsed = { alg, kid };
  if (headerMemo.size >= HEADER_MEMO_MAX) headerMemo.clear();
  headerMemo.set(segment, parsed);
  return parsed;
}

function jsonObject(segment: string): Record<string, unknown> {
  const bytes = decodeBase64Url(segment);
  if (bytes === null) throw malformed();
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw malformed();
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw malformed();
  return value as Record<string, unknown>;
}

function malformed(): TokenError {
  return new TokenError("ERR_TOKEN_MALFORMED");
}
