/** What an instance announces on the revocation channel after a revocation it made. */
export interface Announcement {
  userId?: string;
  jti?: string;
  exp?: number | null;
  revokedAt?: number | null;
  keysRevokedAt?: number | null;
}

/** A peer's announcement as received: nothing in it is trusted until checked. */
export interface PeerMessage {
  userId?: unknown;
  jti?: unknown;
  at?: unknown;
  from?: unknown;
  exp?: unknown;
  revokedAt?: unknown;
  keysRevokedAt?: unknown;
}

/** The wire form of `e`, stamped with the send time and the sending instance. */
export function encodeAnnouncement(e: Announcement, origin: string): string {
  return JSON.stringify({ ...e, at: Date.now(), from: origin });
}

/** Parses a peer's message; null when it is not JSON. */
export function decodeAnnouncement(message: string): PeerMessage | null {
  try {
    return JSON.parse(message) as PeerMessage;
  } catch {
    return null;
  }
}
