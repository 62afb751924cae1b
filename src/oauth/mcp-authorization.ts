/**
 * MCP tool-server authorisation of a signed-in user as a flow, apart from HTTP routing:
 * `/oauth/clients/{client_id}/authorize` starts it, the callback stores the provider session
 * (one per user and MCP client) that tool runners later read through the token endpoint.
 */
import { NotFoundError } from "../auth/auth-errors.ts";
import { OAuthLoginError } from "./oauth-errors.ts";
import { beginAuthorization, orRefused, type OAuthFlowDeps, type OAuthRedirect } from "./oauth-sign-in.ts";
import type { OAuthProvider } from "./provider.ts";
import { tokenDictFrom } from "./token-dict.ts";

/** The MCP client named in the URL (`{name}` or `mcp:{name}`). @throws NotFoundError */
export function mcpClient(d: OAuthFlowDeps, clientId: string): OAuthProvider {
  const name = decodeURIComponent(clientId);
  const p = d.oauth.mcp.get(name) ?? d.oauth.mcp.get(`mcp:${name}`);
  if (!p) throw new NotFoundError();
  return p;
}

/** Starts the authorisation for `userId`; the provider returns to `{baseUrl}/oauth/clients/{name}/callback`. */
export function beginMcpAuthorization(d: OAuthFlowDeps, clientId: string, userId: string, baseUrl: string): Promise<OAuthRedirect> {
  const provider = mcpClient(d, clientId);
  return beginAuthorization(d, provider, `${baseUrl}/oauth/clients/${provider.name}/callback`, { userId, next: "/" });
}

/** The callback: only the user who started it may finish it; stores the user's session for this client. */
export function completeMcpAuthorization(d: OAuthFlowDeps, request: Request, clientId: string, userId: string): Promise<OAuthRedirect> {
  const provider = mcpClient(d, clientId);
  return orRefused(d, provider.name, async () => {
    const pending = await d.oauth.transactions.consume(request, provider.name);
    if (pending.userId !== userId) throw new OAuthLoginError("user_mismatch", "authorisation started by another user");
    const login = await provider.exchange(new URL(request.url), pending);
    // One session per user and MCP client: create() replaces the previous one.
    await d.oauth.sessions.create(userId, provider.name, tokenDictFrom(login.tokenResponse, Math.floor(Date.now() / 1000)));
    return { location: pending.next, cookies: [d.oauth.transactions.clearCookie()] };
  });
}
