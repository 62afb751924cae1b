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
    let headerBytes = 0;
    request.headers.forEach((value, name) => {
      headerBytes += name.length + value.length + 4;
    });
    if (headerBytes > limits.maxHeaderBytes) {
      return detail(431, `Request headers too large: the limit is ${limits.maxHeaderBytes} bytes`);
    }
    return fetch(request);
  };
}
