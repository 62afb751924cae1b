import type { FetchHandler } from "./request-accounting.ts";
import { detail } from "./error-handler.ts";

/** Limits checked before the app sees a request, answered with `{"detail": ...}`. */
export interface RequestLimits {
  maxBodyBytes: number;
  maxHeaderBytes: number;
}

/**
 * Refuses oversized bodies (by Content-Length) with 413 and oversized header sets with 431,
 * as JSON. The runtime's own hard limits sit above these, so normal clients always get a
 * detail; only a body without Content-Length that outgrows the runtime limit is cut off there.
 */
export function withRequestLimits(fetch: FetchHandler, limits: RequestLimits): FetchHandler {
  return (request) => {
    const length = Number(request.headers.get("content-length") ?? "0");
    if (length > limits.maxBodyBytes) {
      return detail(413, `Request body too large: the limit is ${limits.maxBodyBytes} bytes`);
    }
    if (headerBytes(request.headers) > limits.maxHeaderBytes) {
      return detail(431, `Request headers too large: the limit is ${limits.maxHeaderBytes} bytes`);
    }
    return fetch(request);
  };
}

/** Bun's `Headers#toJSON`: every header at once as a plain object (`set-cookie` as an array). */
type JsonHeaders = Headers & { toJSON?: () => Record<string, string | string[]> };

/**
 * The size of a header set as `name: value\r\n` lines (the same count however it is read).
 * On Bun one native `toJSON()` and a loop over plain strings instead of `forEach`, which
 * sorts the list and calls back into JS once per header (≈ 0.2 µs less per request under
 * wrk: bench/results/request-path-profile.md).
 */
export function headerBytes(headers: Headers): number {
  let bytes = 0;
  const toJSON = (headers as JsonHeaders).toJSON;
  if (typeof toJSON !== "function") {
    headers.forEach((value, name) => {
      bytes += name.length + value.length + 4;
    });
    return bytes;
  }
  const all = toJSON.call(headers);
  for (const name in all) {
    const value = all[name]!;
    if (typeof value === "string") bytes += name.length + value.length + 4;
    else for (const v of value) bytes += name.length + v.length + 4;
  }
  return bytes;
}
