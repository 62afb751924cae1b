import type { Services } from "../services.ts";
import { UsersRepo } from "../db/repos/users.ts";
import { DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import { ApiKeysRepo } from "../db/repos/api-keys.ts";
import { RevocationsRepo } from "../db/repos/revocations.ts";
import { UserCache } from "./user-cache.ts";
import { RevocationService } from "./revocation.ts";
import { createRevocationMetrics } from "../observability/revocation-metrics.ts";
import { ActivityRecorder } from "./activity.ts";
import { SessionIssuer } from "./session-issuer.ts";
import { SessionRevoker } from "./session-revoker.ts";
import { CurrentUserResolver } from "./current-user.ts";
import { SignInRateLimiter } from "./signin-rate-limit.ts";
import type { CookiePolicy } from "./cookies.ts";
import type { PasswordHasher, SessionTokenCodec } from "./session-tokens.ts";
import type { SessionKeys } from "../crypto/jwt/session-jwt.ts";
import { FailureFloor } from "./failure-floor.ts";
import { LEGACY_DUMMY_HASH } from "../crypto/password.ts";
import { AccessGroups } from "../groups/access-groups.ts";
import { GroupsRepo } from "../groups/groups-repo.ts";
import type { HeldProviderSession, SecondFactorPort } from "./second-factor.ts";

/** Everything the auth routes use, built once per instance. */
export interface AuthModule {
  users: UsersRepo;
  sessions: DeviceSessionsRepo;
  apiKeys: ApiKeysRepo;
  userCache: UserCache;
  revocation: RevocationService;
  activity: ActivityRecorder;
  issuer: SessionIssuer;
  revoker: SessionRevoker;
  current: CurrentUserResolver;
  rateLimit: SignInRateLimiter;
  passwords: PasswordHasher;
  tokens: SessionTokenCodec;
  /** The session-token keys (a KeyRing for asymmetric algorithms: JWKS, rotation). */
  keys: SessionKeys;
  cookies: CookiePolicy;
  /** `GATEHOUSE_ACCESS_GROUPS`: who may be issued a session; who lost access on a membership change. */
  access: AccessGroups;
  /** The least time a failed password sign-in takes (see FailureFloor). */
  failureFloor: FailureFloor;
  /**
   * The identity provider's logout URL for the session a sign-out request ends, or null. Set by
   * the OAuth module (auth does not depend on it); read before the sign-out deletes the session.
   */
  providerLogoutUrl: ((request: Request) => Promise<string | null>) | null;
  /**
   * Stores a provider session held through a second step (insert, prune beyond the per-user limit);
   * plugged in by the OAuth module.
   */
  keepProviderSession: ((userId: string, held: HeldProviderSession) => Promise<void>) | null;
  /** The second sign-in step, plugged in by src/mfa (null: none, every first step signs in). */
  secondFactor: SecondFactorPort | null;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires the auth services on top of the pool and the store. */
export function createAuthModule(s: Services, crypto: { tokens: SessionTokenCodec; passwords: PasswordHasher; keys: SessionKeys }): AuthModule {
  const cfg = s.config;
  const cookies: CookiePolicy = { sameSite: cfg.cookies.sameSite, secure: cfg.cookies.secure };
  const users = new UsersRepo(s.pool);
  const sessions = new DeviceSessionsRepo(s.pool);
  const apiKeys = new ApiKeysRepo(s.pool, cfg.auth.apiKeyStorage);
  const userCache = new UserCache(users, s.store, { ttlMs: cfg.faults.userCacheTtlMs, maxStaleMs: cfg.faults.userCacheMaxStaleMs });
  const revocation = new RevocationService(s.store, s.watcher, cfg.redis.failureMode, s.log, cfg.redis.revocationReplica, createRevocationMetrics(s.registry), new RevocationsRepo(s.pool));
  const activity = new ActivityRecorder(users, sessions, cfg.auth.activeStatusUpdateIntervalSeconds, s.log);
  const access = new AccessGroups(cfg.groups.accessGroups, new GroupsRepo(s.pool), s.audit);
  const issuer = new SessionIssuer(crypto.tokens, sessions, cfg.jwt.expiresInSeconds, cookies, (id) => revocation.userRevokedAt(id), s.audit,
    (user, ctx) => access.admit(user, ctx.method));
  const revoker = new SessionRevoker(sessions, revocation, s.audit);
  const current = new CurrentUserResolver({
    tokens: crypto.tokens,
    revocation,
    users: userCache,
    apiKeys,
    activity,
    enableApiKeys: () => cfg.auth.enableApiKeys,
    trustedEmailHeader: cfg.auth.trustedEmailHeader,
    trustedProxies: cfg.server.trustedProxies,
    cookies,
    audit: s.audit,
  });
  const rateLimit = new SignInRateLimiter(s.store, cfg.auth.signInRateLimit);
  const failureFloor = new FailureFloor();
  /** With legacy bcrypt hashes in the table, learn their cost now, not at the first such sign-in. */
  const seedFloor = async () => {
    if (!(await users.hasLegacyHashes())) return;
    const started = performance.now();
    await crypto.passwords.verify("not-the-password", LEGACY_DUMMY_HASH);
    failureFloor.observe(performance.now() - started);
  };
  return {
    users, sessions, apiKeys, userCache, revocation, activity, issuer, revoker, current, rateLimit, cookies, failureFloor, access,
    providerLogoutUrl: null,
    keepProviderSession: null,
    secondFactor: null,
    passwords: crypto.passwords,
    tokens: crypto.tokens,
    keys: crypto.keys,
    async start() {
      await revocation.start();
      await userCache.start();
      activity.start();
      void seedFloor().catch((e: unknown) => s.log.warn({ err: (e as Error).message }, "could not measure legacy hash verification"));
    },
    async stop() {
      await activity.stop();
      await userCache.stop();
      await revocation.stop();
    },
  };
}
