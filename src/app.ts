import { Elysia, type AnyElysia } from "elysia";
import type { Services } from "./services.ts";
import type { AuthModule } from "./auth/auth-module.ts";
import { errorHandler } from "./http/error-handler.ts";
import { healthRoutes } from "./http/health-routes.ts";
import { metricsRoute } from "./http/metrics-route.ts";
import { authRoutes } from "./http/auth-routes.ts";
import { accountRoutes } from "./http/account-routes.ts";
import { apiKeyRoutes } from "./http/api-key-routes.ts";
import { sessionRoutes } from "./http/session-routes.ts";
import { forwardAuthRoute } from "./http/forward-auth-route.ts";
import { jwksRoute } from "./http/jwks-route.ts";
import { userAdminRoutes } from "./http/user-admin-routes.ts";
import { groupRoutes } from "./http/group-routes.ts";
import { routeLabel, type FetchHandler } from "./http/request-accounting.ts";
import { withRequestLimits } from "./http/request-limits.ts";
import { withRequestObserver } from "./http/request-observer.ts";
import type { Gateway } from "./gateway/gateway.ts";
import { gatewayRoutes } from "./http/gateway-routes.ts";
import type { OAuthModule } from "./oauth/oauth-module.ts";
import { oauthRoutes } from "./http/oauth-routes.ts";
import { pageRoutes } from "./http/page-routes.ts";
import { openapiRoutes } from "./http/openapi/openapi-routes.ts";
import { applyRouteDocs } from "./http/openapi/route-docs.ts";
import type { GroupsModule } from "./groups/groups-module.ts";
import type { LdapModule } from "./ldap/ldap-module.ts";
import type { MfaModule } from "./mfa/mfa-module.ts";
import { mfaAdminRoutes, mfaRoutes } from "./http/mfa-routes.ts";
import { passkeyRoutes } from "./http/passkey-routes.ts";
import { mfaPageRoutes } from "./http/mfa-page-routes.ts";
import { ldapRoutes } from "./http/ldap-routes.ts";
import { scimRoutes } from "./http/scim-routes.ts";
import { withCsrfGuard } from "./http/csrf-guard.ts";
import { withForwardedSecureCookies } from "./http/secure-cookies.ts";
import { publicOriginOf } from "./http/request-site.ts";
import { checksOwnOrigin } from "./pages/csrf.ts";
import pkg from "../package.json" with { type: "json" };

/** The composed Elysia app and the fetch handler to serve it with. */
export interface Gatehouse {
  app: AnyElysia;
  /** Use this (not `app.fetch`) so database accounting and Server-Timing apply. */
  fetch: FetchHandler;
}

/** The optional areas an instance runs beside the core (each mounts its routes here). */
export interface AppModules {
  groups: GroupsModule;
  /** null when `ENABLE_LDAP` is off. */
  ldap: LdapModule | null;
  /** Second factors and passkeys. */
  mfa: MfaModule;
}

/** Composes the app from its plugins; no logic of its own. */
export function createGatehouse(s: Services, auth: AuthModule, gateway: Gateway, oauth: OAuthModule, modules: AppModules, extra: AnyElysia[] = []): Gatehouse {
  const { groups, ldap, mfa } = modules;
  const app = new Elysia({ aot: true })
    .use(errorHandler(s.log))
    .use(routeLabel())
    .use(healthRoutes(s))
    .use(s.config.server.metricsPort === null ? metricsRoute(s.registry, s.config.server.metricsToken) : new Elysia())
    .use(authRoutes(s, auth, groups))
    .use(accountRoutes(s, auth))
    .use(apiKeyRoutes(s, auth))
    .use(sessionRoutes(auth))
    .use(forwardAuthRoute(auth, groups.repo))
    .use(jwksRoute(auth))
    .use(userAdminRoutes(auth))
    .use(gatewayRoutes(auth, gateway))
    .use(oauthRoutes(s, auth, oauth, groups))
    .use(ldapRoutes(s, auth, ldap))
    .use(pageRoutes(s, auth, oauth, ldap))
    .use(scimRoutes(s, auth, groups))
    .use(groupRoutes(auth, groups.repo))
    .use(mfaRoutes(s, auth, mfa))
    .use(mfaAdminRoutes(auth, mfa))
    .use(passkeyRoutes(s, auth, mfa))
    .use(mfaPageRoutes(s, auth, mfa));
  for (const plugin of extra) app.use(plugin);
  if (s.config.server.openapi) {
    app.use(openapiRoutes(pkg.version));
    const undocumented = applyRouteDocs(app);
    if (undocumented.length > 0) s.log.debug({ undocumented }, "routes without OpenAPI documentation");
  }
  const limits = { maxBodyBytes: s.config.server.maxBodyBytes, maxHeaderBytes: s.config.server.maxHeaderBytes };
  const guarded = withCsrfGuard((req) => app.handle(req), { publicOrigin: publicOriginOf(s.config.server.publicUrl), ownCheck: checksOwnOrigin });
  const secured = withForwardedSecureCookies(guarded, s.config.server.trustedProxies);
  // Database accounting is done by the observer in the same pass (one wrapper fewer per request).
  const limited = withRequestLimits(secured, limits);
  return { app, fetch: withRequestObserver(limited, { metrics: s.httpMetrics, log: s.log, accessLog: s.config.server.accessLog, dbMetrics: s.dbMetrics }) };
}
