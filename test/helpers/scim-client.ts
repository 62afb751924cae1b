import type { TestApp } from "./test-app.ts";

/** The SCIM token tests configure (≥ 16 characters, as the config demands). */
export const TEST_SCIM_TOKEN = "scim-test-token-0123456789abcdef";

/** A SCIM response: status plus parsed JSON body (null for 204). */
export interface ScimReply {
  status: number;
  body: Record<string, unknown> & { Resources?: Array<Record<string, unknown>> };
  contentType: string | null;
}

/** Sends SCIM requests as a provisioning client does (bearer token, application/scim+json). */
export function scimClient(send: (path: string, init: RequestInit) => Promise<Response>, token = TEST_SCIM_TOKEN) {
  return async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimReply> => {
    const res = await send(`/api/v1/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/scim+json", accept: "application/scim+json", ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, contentType: res.headers.get("content-type") };
  };
}

/** `scimClient` over an in-process test app. */
export function scimOn(app: TestApp, token?: string) {
  return scimClient((path, init) => app.request(path, init), token);
}

/** `?filter=` with the value URL-encoded as clients send it. */
export function filterQuery(filter: string, extra = ""): string {
  return `?filter=${encodeURIComponent(filter)}${extra}`;
}
