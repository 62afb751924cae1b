/**
 * Provider sessions of users: one `oauth_session` row per login and device. A new login never
 * deletes another device's row; beyond the per-user limit the oldest rows of that provider are
 * pruned and the device sessions started from them are revoked. MCP sessions (`mcp:*`) keep
 * one row per user and client (replaced on re-authorisation).
 */
import type { OAuthSessionRow, OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import type { SessionRevoker } from "../auth/session-revoker.ts";
import type { HeldProviderSession } from "../auth/second-factor.ts";
import type { Logger } from "../observability/logger.ts";
import type { SessionCipher } from "./session-cipher.ts";
import { newSessionId } from "./session-id.ts";
import type { TokenDict } from "./token-dict.ts";

/** A row with its decrypted dict. */
export interface OpenSession {
  row: OAuthSessionRow;
  dict: TokenDict;
}

/** See the module comment. */
export class OAuthSessions {
  constructor(
    readonly repo: OAuthSessionsRepo,
    private readonly cipher: SessionCipher,
    private readonly revoker: SessionRevoker,
    private readonly maxPerUser: number,
    private readonly log: Logger,
  ) {}

  /** Stores a new session; prunes beyond the limit (revoking their devices). Returns the row id. */
  async create(userId: string, provider: string, dict: TokenDict): Promise<string> {
    const held = await this.hold(provider, dict);
    await this.keep(userId, held);
    return held.id;
  }

  /** A session not stored yet (waiting for a second step): its future row id and its sealed dict. */
  async hold(provider: string, dict: TokenDict): Promise<HeldProviderSession> {
    return { id: newSessionId(), provider, sealed: await this.cipher.encrypt(dict), expiresAt: dict.expires_at };
  }

  /** Stores a held session as its row; prunes beyond the limit (revoking their devices). */
  async keep(userId: string, { id, provider, sealed, expiresAt }: HeldProviderSession): Promise<void> {
    if (provider.startsWith("mcp:")) await this.repo.deleteForUserProvider(userId, provider);
    await this.repo.insert({ id, user_id: userId, provider, token: sealed, expires_at: expiresAt });
    const pruned = await this.repo.pruneBeyond(userId, provider, this.maxPerUser);
    if (pruned.length > 0) {
      const devices = await this.repo.deviceSessionIdsFor(pruned);
      await this.revoker.revokeIds(devices);
      this.log.info({ userId, provider, pruned: pruned.length, revokedDevices: devices.length }, "oauth sessions beyond the per-user limit pruned");
    }
  }

  /** The row of `userId` with its dict; null when absent, another user's, or unreadable (reported). */
  async open(id: string, userId: string): Promise<OpenSession | null> {
    const row = await this.repo.byId(id);
    if (!row || row.user_id !== userId) return null;
    return this.decrypt(row);
  }

  /** Decrypts a row; an undecryptable row is logged and skipped, never deleted here. */
  async decrypt(row: OAuthSessionRow): Promise<OpenSession | null> {
    const dict = await this.cipher.decrypt(row.token);
    if (dict === null) {
      this.log.warn({ oauthSessionId: row.id, provider: row.provider }, "oauth_session row does not decrypt with the configured key; skipped");
      return null;
    }
    return { row, dict };
  }

  /** Replaces a row's token after a refresh. */
  async update(id: string, dict: TokenDict): Promise<void> {
    await this.repo.updateToken(id, await this.cipher.encrypt(dict), dict.expires_at);
  }

  /** Deletes sessions and revokes the device sessions started from them. */
  async end(ids: readonly string[]): Promise<void> {
    const deleted = await this.repo.deleteIds(ids);
    await this.revoker.revokeIds(await this.repo.deviceSessionIdsFor(deleted));
  }
}
