import type { AnyElysia } from "elysia";
import type { Services } from "./services.ts";
import { createAuthModule, type AuthModule } from "./auth/auth-module.ts";
import { createSessionTokenCodec } from "./auth/session-token-codec.ts";
import { sessionTokenConfig } from "./auth/session-keys.ts";
import { createPasswordHasher } from "./auth/password-hasher.ts";
import { createGatehouse, type Gatehouse } from "./app.ts";
import { createGateway, type Gateway } from "./gateway/gateway.ts";
import { createOAuthModule, type OAuthModule } from "./oauth/oauth-module.ts";
import { oauthRoutes } from "./http/oauth-routes.ts";
import { pageRoutes } from "./pages/page-routes.ts";
import { mfaPageRoutes } from "./pages/mfa-page-routes.ts";
import { createMfaModule, type MfaModule } from "./mfa/mfa-module.ts";
import { mfaAdminRoutes, mfaRoutes } from "./http/mfa-routes.ts";
import { passkeyRoutes } from "./http/passkey-routes.ts";
import { createWsHub } from "./ws/create-hub.ts";
import type { WsHub } from "./ws/hub.ts";

/** One Gatehouse instance on its services: auth wiring plus the HTTP app. */
export interface Instance {
  auth: AuthModule;
  gateway: Gateway;
  oauth: OAuthModule;
  /** Second factors and passkeys (plugged into `auth` as its second sign-in step). */
  mfa: MfaModule;
  /** The WebSocket hub the runtime adapters serve at `/ws`. */
  ws: WsHub;
  gatehouse: Gatehouse;
  /** Stops background work (activity flush, subscriptions); the services close separately. */
  stop(): Promise<void>;
}

/** Builds the crypto, the auth module and the app, and starts background work. */
export async function assembleInstance(s: Services, extra: AnyElysia[] = []): Promise<Instance> {
  const tokenConfig = await sessionTokenConfig(s.config, s.secretKey);
  if (tokenConfig.generatedKeyFile) s.log.info({ alg: tokenConfig.alg, file: tokenConfig.generatedKeyFile }, "session tokens signed with a generated key");
  const { codec: tokens, keys } = await createSessionTokenCodec(tokenConfig, s.crypto);
  const auth = createAuthModule(s, { tokens, passwords: createPasswordHasher(s.crypto), keys });
  await auth.start();
  const mfa = createMfaModule(s, auth);
  const gateway = createGateway(s);
  await gateway.start();
  const oauth = await createOAuthModule(s, auth);
  oauth.start();
  const ws = await createWsHub(s, auth);
  const gatehouse = createGatehouse(s, auth, gateway, [oauthRoutes(s, auth, oauth), pageRoutes(s, auth, oauth), ...mfaPlugins(s, auth, mfa), ...extra]);
  return {
    auth, gateway, oauth, ws, gatehouse, mfa,
    stop: async () => {
      await ws.stop();
      await oauth.stop();
      await gateway.stop();
      await auth.stop();
    },
  };
}

/** The second-factor routes: JSON API, admin reset, passkeys, pages. */
function mfaPlugins(s: Services, auth: AuthModule, m: MfaModule): AnyElysia[] {
  return [mfaRoutes(s, auth, m), mfaAdminRoutes(auth, m), passkeyRoutes(s, auth, m), mfaPageRoutes(s, auth, m)];
}
