import type { AnyElysia } from "elysia";
import type { Services } from "./services.ts";
import { createAuthModule, type AuthModule } from "./auth/auth-module.ts";
import { createSessionTokenCodec } from "./auth/session-token-codec.ts";
import { sessionTokenConfig } from "./auth/session-keys.ts";
import { createPasswordHasher } from "./auth/password-hasher.ts";
import { createGatehouse, type Gatehouse } from "./app.ts";
import { createGateway, type Gateway } from "./gateway/gateway.ts";
import { createOAuthModule, type OAuthModule } from "./oauth/oauth-module.ts";
import { createMfaModule, type MfaModule } from "./mfa/mfa-module.ts";
import { createWsHub } from "./ws/create-hub.ts";
import type { WsHub } from "./ws/hub.ts";
import { createLdapModule, type LdapModule } from "./ldap/ldap-module.ts";
import { createGroupsModule, type GroupsModule } from "./groups/groups-module.ts";
import { securityWarnings } from "./config/boot-checks.ts";
import { endAccessOnLoss } from "./groups/access-loss.ts";
import { Deprovisioner } from "./scim/deprovision.ts";
import { OAuthSessionsRepo } from "./db/repos/oauth-sessions.ts";

/** One Gatehouse instance on its services: auth wiring plus the HTTP app. */
export interface Instance {
  auth: AuthModule;
  gateway: Gateway;
  oauth: OAuthModule;
  /** LDAP sign-in; null when `ENABLE_LDAP` is off. */
  ldap: LdapModule | null;
  /** Second factors and passkeys (plugged into `auth` as its second sign-in step). */
  mfa: MfaModule;
  /** The WebSocket hub the runtime adapters serve at `/ws`. */
  ws: WsHub;
  /** Open WebUI's groups and the membership sync (OAuth, trusted header, LDAP, SCIM). */
  groups: GroupsModule;
  gatehouse: Gatehouse;
  /** Stops background work (activity flush, subscriptions); the services close separately. */
  stop(): Promise<void>;
}

/** Builds the crypto, the auth module and the app, and starts background work. */
export async function assembleInstance(s: Services, extra: AnyElysia[] = []): Promise<Instance> {
  for (const warning of securityWarnings(s.config)) s.log.warn({ security: true }, warning);
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
  const lossEndsAccess = endAccessOnLoss(auth.access, new Deprovisioner(auth, new OAuthSessionsRepo(s.pool)), s.audit);
  const groups = createGroupsModule(s, (userId) => gateway.access.invalidate(userId), lossEndsAccess);
  const ldap = createLdapModule(s, auth, groups.sync);
  const gatehouse = createGatehouse(s, auth, gateway, oauth, { groups, ldap, mfa }, extra);
  return {
    auth, gateway, oauth, ldap, ws, groups, gatehouse, mfa,
    stop: async () => {
      await ws.stop();
      await oauth.stop();
      await gateway.stop();
      await auth.stop();
    },
  };
}
