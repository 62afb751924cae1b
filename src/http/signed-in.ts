import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { UserRecord } from "../db/repos/users.ts";
import type { SignInContext } from "../auth/session-issuer.ts";
import { sessionUserResponse } from "../auth/user-response.ts";
import { clientAddress } from "../net/client-address.ts";
import { json } from "./respond.ts";

/** Where the request came from, for the device session. */
export function signInContext(s: Services, request: Request, method: SignInContext["method"], amr?: readonly string[]): SignInContext {
  return { method, amr, userAgent: request.headers.get("user-agent"), ip: clientAddress(request, s.config.server.trustedProxies) };
}

/** Issues a session and answers Open WebUI's sign-in response with the `token` cookie (plus `cookies`). */
export async function signedInResponse(
  s: Services,
  auth: AuthModule,
  request: Request,
  user: UserRecord,
  first: { method: SignInContext["method"]; amr?: readonly string[] },
  cookies: readonly string[] = [],
): Promise<Response> {
  const issued = await auth.issuer.issue(user, signInContext(s, request, first.method, first.amr));
  return json(sessionUserResponse(user, issued.token, issued.expiresAt), { cookies: [issued.cookie, ...cookies] });
}
