import { ScimError } from "./scim-error.ts";

/** Largest SCIM request body read (a group PUT with a few thousand members fits). */
export const MAX_SCIM_BODY_BYTES = 256 * 1024;

/**
 * Reads a JSON object body of at most {@link MAX_SCIM_BODY_BYTES}, without trusting
 * `Content-Length`: the stream is cut at the cap. Not JSON, not an object, or too large
 * → a SCIM 400/413, never a 500.
 */
export async function readScimObject(request: Request): Promise<Record<string, unknown>> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_SCIM_BODY_BYTES) throw new ScimError(413, `Request body larger than ${MAX_SCIM_BODY_BYTES} bytes`);
  const reader = request.body?.getReader();
  if (!reader) throw new ScimError(400, "Request body required", "invalidSyntax");
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_SCIM_BODY_BYTES) {
      await reader.cancel().catch(() => {});
      throw new ScimError(413, `Request body larger than ${MAX_SCIM_BODY_BYTES} bytes`);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw new ScimError(400, "Request body is not valid JSON", "invalidSyntax");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new ScimError(400, "Request body must be a JSON object", "invalidSyntax");
  return parsed as Record<string, unknown>;
}
