import { expect } from "bun:test";
import { postJson } from "../helpers/cookie-jar.ts";

/** Request options carrying `token` as a Bearer credential. */
export function bearer(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` } };
}

/** Signs up `email` (password "pw") and returns its token. */
export async function signUpToken(baseUrl: string, email: string): Promise<string> {
  const r = await fetch(`${baseUrl}/api/v1/auths/signup`, postJson({ name: email, email, password: "pw-revocation-1" }));
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}

/** Signs `email` in again (a second device session) and returns the new token. */
export async function signInToken(baseUrl: string, email: string): Promise<string> {
  const r = await fetch(`${baseUrl}/api/v1/auths/signin`, postJson({ email, password: "pw-revocation-1" }));
  expect(r.status).toBe(200);
  return ((await r.json()) as { token: string }).token;
}
