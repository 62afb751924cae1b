import { DeviceSessionsRepo } from "../db/repos/device-sessions.ts";
import { positional, type CliCommand } from "./command.ts";
import { userByEmail } from "./user-lookup.ts";

const iso = (s: number | string | null) => (s === null ? "-" : new Date(Number(s) * 1000).toISOString().replace(".000", ""));

/** `list-sessions <email> [--json]`: the user's live device sessions, newest first. */
export const listSessionsCommand: CliCommand = {
  name: "list-sessions",
  usage: "list-sessions <email> [--json]",
  summary: "list a user's live device sessions",
  async run(ctx) {
    const pool = await ctx.pool();
    const user = await userByEmail(pool, positional(ctx, 0, "email"));
    const rows = await new DeviceSessionsRepo(pool).listLive(user.id);
    const view = rows.map((r) => ({
      id: r.id, method: r.auth_method, created: iso(r.created_at), last_seen: iso(r.last_seen_at),
      expires: iso(r.expires_at), ip: r.ip ?? "-", user_agent: r.user_agent ?? "-",
    }));
    if (ctx.args.flags.get("json") === true) {
      ctx.out(JSON.stringify(view, null, 2));
      return;
    }
    ctx.out(`${rows.length} live ${rows.length === 1 ? "session" : "sessions"} for ${user.email}`);
    if (rows.length === 0) return;
    const cols = ["id", "method", "created", "last_seen", "expires", "ip", "user_agent"] as const;
    const widths = cols.map((c) => Math.min(60, Math.max(c.length, ...view.map((v) => String(v[c]).length))));
    const line = (cells: string[]) => cells.map((c, i) => c.slice(0, widths[i]).padEnd(widths[i]!)).join("  ").trimEnd();
    ctx.out(line([...cols]));
    for (const v of view) ctx.out(line(cols.map((c) => String(v[c]))));
  },
};
