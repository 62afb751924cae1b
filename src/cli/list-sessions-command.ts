import { DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import { epochSeconds } from "../db/repos/users.ts";
import { intFlag, positional, type CliCommand } from "./command.ts";
import { userByEmail } from "./user-lookup.ts";
import { formatTable } from "./table.ts";

const iso = (s: number | string | null) => (s === null ? "-" : new Date(Number(s) * 1000).toISOString().replace(".000", ""));

/** `list-sessions <email> [--all] [--json]`: the user's device sessions, newest first. */
export const listSessionsCommand: CliCommand = {
  name: "list-sessions",
  usage: "list-sessions <email> [--all [--max 100]] [--json]   (--all: revoked and expired ones too)",
  summary: "list a user's device sessions",
  async run(ctx) {
    const pool = await ctx.pool();
    const user = await userByEmail(pool, positional(ctx, 0, "email"));
    const all = ctx.args.flags.get("all") === true;
    const repo = new DeviceSessionsRepo(pool);
    const rows = all ? await repo.listAll(user.id, intFlag(ctx, "max", 100)) : await repo.listLive(user.id);
    const now = epochSeconds();
    const view = rows.map((r) => ({
      id: r.id, method: r.auth_method, created: iso(r.created_at), last_seen: iso(r.last_seen_at),
      expires: iso(r.expires_at), revoked: iso(r.revoked_at), ip: r.ip ?? "-", user_agent: r.user_agent ?? "-",
      live: r.revoked_at === null && (r.expires_at === null || Number(r.expires_at) > now),
    }));
    if (ctx.args.flags.get("json") === true) {
      ctx.out(JSON.stringify(view, null, 2));
      return;
    }
    const live = view.filter((v) => v.live).length;
    ctx.out(`${live} live ${live === 1 ? "session" : "sessions"} for ${user.email}${all ? ` (${view.length} listed, revoked and expired included)` : ""}`);
    if (view.length === 0) return;
    for (const line of formatTable(["id", "method", "created", "last_seen", "expires", "revoked", "ip", "user_agent"], view)) ctx.out(line);
  },
};
