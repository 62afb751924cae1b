import type { ActivityRecorder } from "../auth/activity.ts";
import type { WsConfig } from "../config/config.ts";
import type { WsHub } from "./hub.ts";
import { WsBadRequestError } from "./ws-errors.ts";
import { UsagePool } from "./usage-pool.ts";

/**
 * Open WebUI's socket events: `user-join` (authenticate; ack `{id, name}`), `heartbeat`
 * (refresh the session_pool entry, throttled, and note activity), `join-channels`
 * (join the `channel:{id}` rooms the user may see; ack `{channels}`), `usage {model}`
 * (mark the socket as using a model in `usage_pool`, removed when it closes).
 */
export function registerCoreEvents(hub: WsHub, activity: ActivityRecorder, config: Pick<WsConfig, "sessionPoolTimeoutSeconds">): void {
  const heartbeatThrottleMs = Math.min(10_000, (config.sessionPoolTimeoutSeconds * 1000) / 4);

  hub.on("user-join", (conn, data) => {
    const token = tokenOf(data);
    if (token === null) throw new WsBadRequestError('user-join needs {"auth": {"token": "..."}}');
    return hub.authenticate(conn, token);
  }, { anonymous: true });

  hub.on("heartbeat", (conn) => {
    hub.touch(conn, heartbeatThrottleMs);
    activity.note(conn.userId!, conn.jti ?? undefined);
    return null;
  });

  hub.on("usage", async (conn, data) => {
    const model = (data as { model?: unknown } | null | undefined)?.model;
    if (!UsagePool.valid(model)) throw new WsBadRequestError('usage needs {"model": "<model id>"}');
    if (!(await hub.usage.mark(conn.id, model))) throw new WsBadRequestError("Too many models marked in use by this socket");
    // Closed while marking: its close-time cleanup may have run before the mark landed.
    if (!conn.open) await hub.usage.forget(conn.id);
    return null;
  });

  hub.on("join-channels", async (conn, data) => {
    // Open WebUI sends the token again; when it does, it must still verify (a failure closes with 4001).
    const token = tokenOf(data);
    if (token !== null && (await hub.authenticate(conn, token)) === null) return null;
    const user = hub.userOf(conn);
    if (!user) return null;
    const ids = await hub.channels.channelsFor(user);
    hub.joinRooms(conn, ids.map((id) => `channel:${id}`));
    return { channels: ids };
  });
}

/** `data.auth.token` when it is a non-empty string. */
function tokenOf(data: unknown): string | null {
  const auth = (data as { auth?: unknown } | null | undefined)?.auth;
  const token = (auth as { token?: unknown } | null | undefined)?.token;
  return typeof token === "string" && token.length > 0 ? token : null;
}
