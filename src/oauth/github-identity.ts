/**
 * GitHub's identity for a login (GitHub issues no ID token): `/user` for the id, name and
 * avatar, and `/user/emails` for the primary verified address (`email_verified: true`); without
 * access to that list (no `user:email` scope) the profile's public email, not asserted verified.
 * `sub` is the numeric user id.
 */
import { OAuthLoginError } from "./oauth-errors.ts";

/** Reads the identity from the REST API at `apiUrl` (`https://api.github.com`, or GHES's `/api/v3`). */
export async function githubIdentity(apiUrl: string, accessToken: string, signal: AbortSignal): Promise<Record<string, unknown>> {
  const get = (path: string): Promise<Response> =>
    fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json", "user-agent": "gatehouse" }, signal });
  let userRes: Response;
  let emailsRes: Response;
  try {
    [userRes, emailsRes] = await Promise.all([get("/user"), get("/user/emails")]);
  } catch {
    throw new OAuthLoginError("provider_unavailable", "GitHub API unreachable");
  }
  if (!userRes.ok) throw new OAuthLoginError("provider_unavailable", "GitHub API refused");
  const user = (await userRes.json().catch(() => null)) as Record<string, unknown> | null;
  if (typeof user !== "object" || user === null || typeof user["id"] !== "number") throw new OAuthLoginError("invalid_id_token", "GitHub user without id");
  const emails: unknown = emailsRes.ok ? await emailsRes.json().catch(() => null) : null;
  const primary = Array.isArray(emails) ? emails.find(isPrimaryVerified) : undefined;
  return {
    sub: String(user["id"]),
    email: primary?.email ?? (typeof user["email"] === "string" ? user["email"] : null),
    email_verified: primary !== undefined,
    name: typeof user["name"] === "string" && user["name"] ? user["name"] : user["login"],
    picture: typeof user["avatar_url"] === "string" ? user["avatar_url"] : undefined,
  };
}

function isPrimaryVerified(e: unknown): e is { email: string } {
  if (typeof e !== "object" || e === null) return false;
  const o = e as Record<string, unknown>;
  return o["primary"] === true && o["verified"] === true && typeof o["email"] === "string";
}
