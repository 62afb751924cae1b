/** Token counts as the upstream reported them. */
export interface TokenUsage {
  promptTokens: number | null;
  completionTokens: number | null;
}

const MAX_TOKENS = 2_147_483_647;

function count(v: unknown): number | null {
  return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_TOKENS ? v : null;
}

/** The `usage` of an OpenAI response object or chunk, when it has one. */
export function usageOf(body: unknown): TokenUsage | null {
  if (typeof body !== "object" || body === null) return null;
  const u = (body as { usage?: unknown }).usage;
  if (typeof u !== "object" || u === null) return null;
  const r = u as Record<string, unknown>;
  const usage = { promptTokens: count(r["prompt_tokens"]), completionTokens: count(r["completion_tokens"]) };
  return usage.promptTokens === null && usage.completionTokens === null ? null : usage;
}

/** The message of an OpenAI-style `{"error": {...}}` (or `{"detail": ...}`) body, if any. */
export function errorMessageOf(body: unknown): string | null {
  if (typeof body !== "object" || body === null) return null;
  const b = body as Record<string, unknown>;
  const e = b["error"];
  if (typeof e === "string") return e;
  if (typeof e === "object" && e !== null && typeof (e as { message?: unknown }).message === "string") return (e as { message: string }).message;
  if (typeof b["detail"] === "string") return b["detail"];
  if (typeof b["message"] === "string") return b["message"];
  return null;
}

/**
 * Watches a chat-completion event stream go by without changing it: counts events, notes
 * `[DONE]`, picks up `usage` and upstream error events, and flags data that is not JSON.
 * Lines end in `\n` or `\r\n`. Only the first event, and events that mention `usage` or
 * `error`, are fully parsed; the others get a cheap shape check, so a busy gateway does not
 * parse every token twice.
 */
export class SseScanner {
  readonly #decoder = new TextDecoder();
  #partial = "";
  #data: string[] = [];
  /** Complete events seen. */
  events = 0;
  sawDone = false;
  usage: TokenUsage | null = null;
  /** The message of an `{"error": ...}` event, if the upstream sent one. */
  upstreamError: string | null = null;
  /** Why the stream is not valid chat-completion SSE, once it is known not to be. */
  malformed: string | null = null;

  /** Feeds the next chunk of bytes. */
  push(chunk: Uint8Array): void {
    const text = this.#partial + this.#decoder.decode(chunk, { stream: true });
    let start = 0;
    for (;;) {
      const nl = text.indexOf("\n", start);
      if (nl < 0) break;
      const end = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      this.#line(text.slice(start, end));
      start = nl + 1;
    }
    this.#partial = text.slice(start);
    if (this.#partial.length > 1_048_576 && this.malformed === null) this.malformed = "an event line longer than 1 MiB";
  }

  #line(line: string): void {
    if (line === "") {
      if (this.#data.length > 0) {
        const data = this.#data.join("\n");
        this.#data = [];
        this.#dispatch(data);
      }
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    if (field !== "data") return;
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    this.#data.push(value);
  }

  #dispatch(data: string): void {
    this.events++;
    if (data === "[DONE]") {
      this.sawDone = true;
      return;
    }
    if (this.malformed !== null) return;
    const full = this.events === 1 || data.includes('"usage"') || data.includes('"error"');
    if (!full) {
      const t = data.trim();
      if (t.charCodeAt(0) !== 123 || t.charCodeAt(t.length - 1) !== 125) this.malformed = `event ${this.events} is not a JSON object`;
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      this.malformed = `event ${this.events} is not valid JSON`;
      return;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      this.malformed = `event ${this.events} is not a JSON object`;
      return;
    }
    const usage = usageOf(parsed);
    if (usage) this.usage = usage;
    if ("error" in parsed) this.upstreamError = errorMessageOf(parsed) ?? "error event";
  }
}
