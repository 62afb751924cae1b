import { Elysia } from "elysia";
import { ServiceError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";

/** Answers `{"detail": ...}` with the given status (and extra headers; a name may repeat). */
export function detail(status: number, message: string, headers: Array<[string, string]> = []): Response {
  const h = new Headers({ "content-type": "application/json" });
  for (const [name, value] of headers) h.append(name, value);
  return new Response(JSON.stringify({ detail: message }), { status, headers: h });
}

/**
 * Turns every error into `{"detail": ...}` with a fitting status. Unknown errors are
 * logged (message only, no request data) and answered 500 without a stack trace.
 */
export function errorHandler(log: Logger) {
  return new Elysia({ name: "gatehouse.errors" }).onError({ as: "global" }, ({ code, error }) => {
    if (error instanceof ServiceError) {
      const headers: Array<[string, string]> = [...error.headers];
      if (error.retryAfterSeconds !== undefined) headers.push(["retry-after", String(error.retryAfterSeconds)]);
      return detail(error.status, error.message, headers);
    }
    switch (code) {
      case "NOT_FOUND":
        return detail(404, "Not Found");
      case "PARSE":
        return detail(400, "Malformed request body: expected valid JSON");
      case "VALIDATION":
        return detail(422, validationMessage(error));
      case "INVALID_COOKIE_SIGNATURE":
        return detail(400, "Invalid cookie signature");
      default: {
        // Postgres class 22 (data exception: NUL bytes, out-of-range numbers) comes from the client's input.
        const pgCode = (error as { code?: unknown }).code;
        if (typeof pgCode === "string" && /^22[0-9A-Z]{3}$/.test(pgCode)) return detail(400, "Invalid value in request");
        const status = typeof (error as { status?: unknown }).status === "number" ? (error as { status: number }).status : 500;
        if (status >= 400 && status < 500) return detail(status, (error as Error).message || "Bad Request");
        log.error({ code: String(code), err: (error as Error)?.message }, "unhandled error");
        return detail(500, "Internal Server Error");
      }
    }
  });
}

function validationMessage(error: unknown): string {
  const e = error as { all?: Array<{ path?: string; summary?: string; message?: string }> };
  const first = e.all?.[0];
  if (!first) return "Invalid request";
  const field = (first.path ?? "").replace(/^\//, "").replace(/\//g, ".");
  const why = first.summary ?? first.message ?? "is invalid";
  return field ? `Invalid field '${field}': ${why}` : `Invalid request: ${why}`;
}
