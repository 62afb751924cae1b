import { esc } from "./html.ts";
import { deviceLabel } from "./device-label.ts";

/** One row of the devices page. */
export interface DeviceRow {
  id: string;
  userAgent: string | null;
  ip: string | null;
  method: string;
  /** Authentication methods (`pwd`, `otp`, `hwk`, `oauth`, `ldap`); empty when not recorded. */
  amr: readonly string[];
  createdAt: number;
  lastSeenAt: number;
  current: boolean;
}

const METHODS: Record<string, string> = {
  password: "password", signup: "sign-up", oauth: "single sign-on", trusted_header: "trusted proxy", api_key: "API key", ldap: "LDAP", passkey: "passkey",
};

const AMR: Record<string, string> = { pwd: "password", otp: "authenticator code", hwk: "passkey", oauth: "single sign-on", ldap: "LDAP" };

/** "password + authenticator code" from the recorded methods, else the sign-in method. */
function howSignedIn(r: DeviceRow): string {
  return r.amr.length > 0 ? r.amr.map((m) => AMR[m] ?? m).join(" + ") : (METHODS[r.method] ?? r.method);
}

function when(epochSeconds: number): string {
  return `<time datetime="${new Date(epochSeconds * 1000).toISOString()}">${esc(new Date(epochSeconds * 1000).toISOString().replace("T", " ").slice(0, 16))} UTC</time>`;
}

/** The `/account/sessions` page body. */
export function sessionsPageBody(user: { name: string; email: string }, rows: readonly DeviceRow[]): string {
  const others = rows.filter((r) => !r.current).length;
  const items = rows.map((r) => {
    const label = esc(deviceLabel(r.userAgent));
    const action = r.current
      ? `<span class="muted">This device</span>`
      : `<form method="post" action="/account/sessions/${esc(encodeURIComponent(r.id))}/revoke"><button class="danger" type="submit" aria-label="Revoke ${label}, last seen ${esc(new Date(r.lastSeenAt * 1000).toISOString())}">Revoke</button></form>`;
    return `<li data-session="${esc(r.id)}"${r.current ? ' aria-current="true"' : ""}>
<div><strong>${label}</strong>${r.current ? '<span class="badge">current</span>' : ""}
<div class="muted">IP ${esc(r.ip ?? "unknown")} · signed in with <span data-amr="${esc(r.amr.join(","))}">${esc(howSignedIn(r))}</span></div>
<div class="muted">Last seen ${when(r.lastSeenAt)} · since ${when(r.createdAt)}</div></div>
${action}
</li>`;
  }).join("\n");
  return `<nav><h1>Your devices</h1>
<form method="post" action="/auth/signout"><button class="secondary" type="submit">Sign out</button></form></nav>
<p class="muted">Signed in as ${esc(user.name)} (${esc(user.email)}). Revoking a device signs it out on its next request.</p>
<section class="card" aria-labelledby="list-title">
<h2 id="list-title">${rows.length} active ${rows.length === 1 ? "session" : "sessions"}</h2>
<ul class="sessions">
${items}
</ul>
</section>
${others === 0 ? "" : `<form method="post" action="/account/sessions/revoke-others"><button class="secondary" type="submit">Sign out everywhere else</button></form>`}`;
}
