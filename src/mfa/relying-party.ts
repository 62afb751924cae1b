import type { Config } from "../config/config.ts";

/** The WebAuthn relying party: its id (a host name) and the origins responses may come from. */
export interface RelyingParty {
  id: string;
  name: string;
  /** The origins accepted for a request (its own `Origin` when localhost development is allowed). */
  origins(request: Request): string[];
}

const LOCALHOST_ORIGIN = /^http:\/\/localhost(?::\d{1,5})?$/;

/**
 * From `WEBUI_URL`: id = its host name, origin = its origin. Without it (only with
 * `GATEHOUSE_PASSKEYS_ALLOW_LOCALHOST`; config refuses otherwise): id `localhost`, and the
 * request's `http://localhost:<port>` origin.
 */
export function relyingParty(config: Config): RelyingParty {
  const url = config.server.publicUrl;
  if (url !== null) {
    const u = new URL(url);
    return { id: u.hostname, name: u.host, origins: () => [u.origin] };
  }
  return {
    id: "localhost",
    name: "Gatehouse (development)",
    origins: (request) => {
      const origin = request.headers.get("origin") ?? "";
      return LOCALHOST_ORIGIN.test(origin) ? [origin] : [];
    },
  };
}
