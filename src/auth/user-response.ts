import type { UserRecord } from "../db/repos/users.ts";

/** Open WebUI's `SessionUserResponse`. */
export interface SessionUserResponse {
  token: string;
  token_type: "Bearer";
  expires_at: number | null;
  id: string;
  email: string;
  name: string;
  role: string;
  profile_image_url: string;
  permissions: Record<string, unknown>;
}

/** The public fields of a user (never the password hash or OAuth subjects). */
export function publicUser(u: UserRecord): { id: string; email: string; name: string; role: string; profile_image_url: string } {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    profile_image_url: u.profile_image_url ?? `/api/v1/users/${u.id}/profile/image`,
  };
}

/** The body Open WebUI's sign-in, sign-up and session endpoints answer with. */
export function sessionUserResponse(u: UserRecord, token: string, expiresAt: number | null): SessionUserResponse {
  return { token, token_type: "Bearer", expires_at: expiresAt, ...publicUser(u), permissions: {} };
}
