import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import { runtimeName } from "../platform.ts";
import { WsHub } from "./hub.ts";
import { registerCoreEvents } from "./core-events.ts";
import { OpenWebUIChannelAccess, type ChannelAccess } from "./channel-access.ts";

/**
 * Builds and starts the instance's socket hub on its services, and registers the drain hook
 * that closes every socket with 1001 when shutdown begins.
 */
export async function createWsHub(s: Services, auth: AuthModule, channels?: ChannelAccess): Promise<WsHub> {
  const hub = new WsHub({
    config: s.config.ws,
    store: s.store,
    log: s.log,
    registry: s.registry,
    auth,
    channels: channels ?? new OpenWebUIChannelAccess(s.pool),
    trustedEmailHeader: s.config.auth.trustedEmailHeader,
    trustedProxies: s.config.server.trustedProxies,
  });
  registerCoreEvents(hub, auth.activity, s.config.ws);
  await hub.start();
  // The engine is Bun's (@socket.io/bun-engine); on Deno /ws/socket.io is not served (README).
  if (s.config.socketio.enabled && runtimeName === "bun") {
    const { createSocketIoEndpoint } = await import("./socketio-server.ts");
    const endpoint = createSocketIoEndpoint(hub, s.config.socketio, s.log);
    hub.socketio = endpoint;
    // Engine.IO sessions that never reached the hub (mid-handshake) are closed too.
    s.lifecycle.onDrain(async () => endpoint.close());
  }
  s.lifecycle.onDrain(() => hub.drain());
  return hub;
}
