/**
 * A UUIDv7 for new `oauth_session` rows: still a UUID (the `oauth_session_id` cookie as Open
 * WebUI has it), but time-ordered to the millisecond, so pruning "oldest first" is exact even
 * when many logins share the one-second `created_at`.
 */
export function newSessionId(nowMs = Date.now()): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let t = nowMs;
  for (let i = 5; i >= 0; i--) {
    b[i] = t % 256;
    t = Math.floor(t / 256);
  }
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
