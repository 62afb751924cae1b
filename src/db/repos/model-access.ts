import type { StrictPool } from "../pool.ts";
import { BatchLoader } from "../batch-loader.ts";
import { epochSeconds } from "./users.ts";

/** Matches every user (in `user_id`) or every model (in `model_id`). */
export const ANY = "*";

/** `user_id` of a grant to a group's members: `group:` + the group's id or name. */
export const GROUP_GRANT_PREFIX = "group:";

/** A `gatehouse_model_access` row. */
export interface ModelAccessGrant {
  user_id: string;
  model_id: string;
  granted_at: number;
  granted_by: string | null;
}

/** Who may call which model through the gateway. Each method is one short checkout (`modelsFor`: shared with concurrent lookups). */
export class ModelAccessRepo {
  /** Concurrent lookups for different users (a burst of cold chat calls) share one checkout and one query. */
  readonly #modelsFor: BatchLoader<string[]>;

  constructor(private readonly pool: StrictPool) {
    this.#modelsFor = new BatchLoader(pool, "model_access.for_user", async (c, userIds) => {
      const rows = await c<{ user_id: string; model_id: string }[]>`
        select u.id as user_id, m.model_id from unnest(${userIds}::text[]) as u(id)
          join lateral (
            select distinct model_id from gatehouse_model_access
             where user_id = u.id or user_id = ${ANY}
                or user_id in (select ${GROUP_GRANT_PREFIX} || x from group_member gm join "group" g on g.id = gm.group_id,
                                      lateral (values (g.id), (g.name)) v(x)
                                where gm.user_id = u.id and x is not null)) m on true`;
      const byUser = new Map<string, string[]>();
      for (const r of rows) {
        const models = byUser.get(r.user_id);
        if (models) models.push(r.model_id);
        else byUser.set(r.user_id, [r.model_id]);
      }
      return byUser;
    });
  }

  /**
   * Model ids granted to `userId`: directly, to every user (`*`), or to a group they belong to
   * (`group:{id|name}`); may contain `*`. Read together with every other user asked for meanwhile.
   */
  async modelsFor(userId: string): Promise<string[]> {
    return (await this.#modelsFor.load(userId)) ?? [];
  }

  /** Every grant, or the grants of one user (including grants to every user), oldest first. */
  list(userId?: string): Promise<ModelAccessGrant[]> {
    return this.pool.run("model_access.list", async (c) =>
      userId === undefined
        ? c<ModelAccessGrant[]>`select user_id, model_id, granted_at, granted_by from gatehouse_model_access order by granted_at, user_id, model_id`
        : c<ModelAccessGrant[]>`select user_id, model_id, granted_at, granted_by from gatehouse_model_access
                                 where user_id = ${userId} or user_id = ${ANY} order by granted_at, user_id, model_id`);
  }

  /** @returns false when the grant already existed. */
  grant(userId: string, modelId: string, grantedBy: string | null): Promise<boolean> {
    return this.pool.run("model_access.grant", async (c) => {
      const r = await c`insert into gatehouse_model_access (user_id, model_id, granted_at, granted_by)
                        values (${userId}, ${modelId}, ${epochSeconds()}, ${grantedBy}) on conflict do nothing`;
      return r.count > 0;
    });
  }

  /** @returns false when there was no such grant. */
  revoke(userId: string, modelId: string): Promise<boolean> {
    return this.pool.run("model_access.revoke", async (c) => {
      const r = await c`delete from gatehouse_model_access where user_id = ${userId} and model_id = ${modelId}`;
      return r.count > 0;
    });
  }
}
