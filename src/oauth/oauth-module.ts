import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import { SessionCipher } from "./session-cipher.ts";
import { OAuthSessions } from "./oauth-sessions.ts";
import { OAuthTokenAccess, type TokenAccessOptions } from "./token-access.ts";
import { LoginTransactions } from "./login-transaction.ts";
import { OAuthUserResolver } from "./user-resolver.ts";
import { configuredProviders, mcpProviders } from "./providers.ts";
import { OAuthSweep } from "./sweep.ts";
import { providerLogoutUrl } from "./rp-logout.ts";
import type { OAuthProvider } from "./provider.ts";

/** Everything the OAuth routes use, built once per instance. */
export interface OAuthModule {
  /** Sign-in providers by route name. */
  providers: ReadonlyMap<string, OAuthProvider>;
  /** MCP tool-server clients by provider name `mcp:{id}` (no sign-in, tokens only). */
  mcp: ReadonlyMap<string, OAuthProvider>;
  sessions: OAuthSessions;
  tokens: OAuthTokenAccess;
  transactions: LoginTransactions;
  users: OAuthUserResolver;
  sweep: OAuthSweep;
  start(): void;
  stop(): Promise<void>;
}

/** Wires providers, the encrypted session store, token access and the background sweep. */
export async function createOAuthModule(s: Services, auth: AuthModule, opts: TokenAccessOptions = {}): Promise<OAuthModule> {
  const cipher = await SessionCipher.create(s.crypto, s.config.oauth.sessionEncryptionKey ?? s.secretKey, s.config.oauth.previousSessionEncryptionKeys);
  const providers = configuredProviders(s.config, s.crypto);
  const mcp = mcpProviders(s.config, s.crypto);
  const sessions = new OAuthSessions(new OAuthSessionsRepo(s.pool), cipher, auth.revoker, s.config.oauth.maxSessionsPerUser, s.log);
  const tokens = new OAuthTokenAccess(sessions, (name) => providers.get(name) ?? mcp.get(name), s.store, s.log, { audit: s.audit, ...opts });
  const sweep = new OAuthSweep(sessions, tokens, s.log);
  auth.keepProviderSession = (userId, held) => sessions.keep(userId, held);
  auth.providerLogoutUrl = (request) => providerLogoutUrl(request, { auth, sessions, providers, publicUrl: s.config.server.publicUrl });
  return {
    providers, mcp, sessions, tokens, sweep,
    transactions: new LoginTransactions(s.store, auth.cookies),
    users: new OAuthUserResolver(s.config, auth),
    start: () => sweep.start(),
    stop: () => sweep.stop(),
  };
}
