import type { ServiceError } from "../errors.ts";
import { UpstreamMalformedError } from "./gateway-errors.ts";
import { errorMessageOf } from "./sse.ts";

/** Upstream response headers worth passing on (besides content-type). */
const PASSED_HEADERS = /^(x-request-id|openai-[a-z-]+|x-ratelimit-[a-z-]+)$/;
const encoder = new TextEncoder();

/**
 * Reads a body up to `limit` bytes (`truncate`: keep the first `limit` and stop; else fail
 * with {@link UpstreamMalformedError}). `progress` wraps each read (the call's timeout).
 */
export async function readBody(
  res: Response, limit: number, truncate: boolean, progress: <T>(p: Promise<T>) => Promise<T>,
): Promise<Uint8Array<ArrayBuffer>> {
  if (!res.body) return new Uint8Array(0);
  const reader = res.body.getReader();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let size = 0;
  for (;;) {
    const r = await progress(reader.read());
    if (r.done) break;
    parts.push(r.value as Uint8Array<ArrayBuffer>);
    size += r.value.byteLength;
    if (size >= limit) {
      reader.cancel().catch(() => {});
      if (truncate) break;
      throw new UpstreamMalformedError(`the response body is larger than ${limit} bytes`);
    }
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return truncate ? out.subarray(0, Math.min(size, limit)) : out;
}

/** content-type (or `fallback`) plus the upstream headers worth keeping. */
export function passedHeaders(res: Response, fallback: string): Headers {
  const h = new Headers({ "content-type": res.headers.get("content-type") ?? fallback });
  res.headers.forEach((value, name) => {
    if (PASSED_HEADERS.test(name)) h.set(name, value);
  });
  return h;
}

/** A final SSE event carrying an error, in OpenAI's error shape. */
export function errorEvent(err: ServiceError): Uint8Array {
  return encoder.encode(`data: ${JSON.stringify({ error: { message: err.message, type: "gateway_error", code: err.code } })}\n\n`);
}

/** The upstream's error message from its error body (JSON or text). */
export function summarize(bytes: Uint8Array): string | null {
  const text = new TextDecoder().decode(bytes).trim();
  if (text === "") return null;
  try {
    return errorMessageOf(JSON.parse(text)) ?? text;
  } catch {
    return /^<(!doctype|html)/i.test(text) ? null : text;
  }
}

/** A short, credential-free description of a network failure (Bun and Deno word them differently). */
export function networkReason(e: unknown): string {
  const code = String((e as { code?: unknown })?.code ?? "");
  const text = `${code} ${(e as Error)?.message ?? ""}`;
  if (/refused/i.test(text)) return "connection refused";
  if (/ENOTFOUND|EAI_AGAIN|dns|resolve|lookup/i.test(text)) return "host not found";
  if (/reset|closed|EPIPE|socket|terminated|eof/i.test(text)) return "connection closed";
  if (/tls|certificate|ssl/i.test(text)) return "TLS handshake failed";
  return "network error";
}
