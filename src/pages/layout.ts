import { esc } from "./html.ts";

/** Styles of every page: system fonts, readable at 320 px, visible focus, no external asset. */
const STYLES = `
:root { color-scheme: light dark; --fg: #1b1b1f; --muted: #5b5b66; --bg: #f7f7f9; --card: #fff; --line: #d9d9e0; --accent: #2d5bd7; --danger: #b3261e; --ok: #1f7a3d; }
@media (prefers-color-scheme: dark) { :root { --fg: #ececf1; --muted: #a6a6b3; --bg: #121216; --card: #1c1c22; --line: #33333d; --accent: #8aa8ff; --danger: #ff8a80; --ok: #7bd88f; } }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem 3rem; }
h1 { font-size: 1.6rem; margin: 0 0 1rem; } h2 { font-size: 1.2rem; margin: 1.5rem 0 .75rem; } .card > h2:first-child { margin-top: 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: .75rem; padding: 1.25rem; margin-bottom: 1rem; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input { width: 100%; font: inherit; padding: .6rem .7rem; border: 1px solid var(--line); border-radius: .5rem; background: var(--bg); color: var(--fg); }
button, .button { display: inline-block; font: inherit; font-weight: 600; padding: .6rem 1rem; margin-top: 1rem; border-radius: .5rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
button.secondary, .button.secondary { background: transparent; color: var(--accent); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); margin-top: 0; }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.flash { padding: .75rem 1rem; border-radius: .5rem; margin-bottom: 1rem; border: 1px solid; }
.flash.error { color: var(--danger); border-color: var(--danger); } .flash.notice { color: var(--ok); border-color: var(--ok); }
.providers { display: flex; flex-wrap: wrap; gap: .5rem; } .providers .button { margin-top: 0; }
.muted { color: var(--muted); font-size: .9rem; }
ul.sessions { list-style: none; padding: 0; margin: 0; }
ul.sessions li { display: flex; flex-wrap: wrap; justify-content: space-between; gap: .75rem; padding: .9rem 0; border-top: 1px solid var(--line); }
ul.sessions li:first-child { border-top: 0; }
.badge { display: inline-block; font-size: .8rem; font-weight: 700; padding: 0 .5rem; border-radius: 1rem; border: 1px solid var(--ok); color: var(--ok); margin-left: .5rem; }
.qr svg { width: 12rem; height: 12rem; background: #fff; border-radius: .5rem; }
code.secret { display: block; overflow-wrap: anywhere; font-size: 1rem; padding: .5rem; border: 1px dashed var(--line); border-radius: .5rem; }
ol.codes { columns: 2; font-family: ui-monospace, monospace; }
.inline { display: inline; } nav { display: flex; justify-content: space-between; align-items: center; gap: 1rem; flex-wrap: wrap; }
`;

/** A message shown at the top of a page. */
export interface Flash {
  kind: "error" | "notice";
  text: string;
}

/** The parts of one page. `body` is already-escaped HTML built with {@link esc}. */
export interface PageParts {
  title: string;
  body: string;
  flash?: Flash | null;
  status?: number;
  cookies?: readonly string[];
  /**
   * Send the browser on to this absolute URL at once (`<meta http-equiv="refresh">`): how a form
   * post leads to another site, which `form-action 'self'` forbids for a redirect.
   */
  refreshTo?: string;
  /** The absolute URL of Gatehouse's one first-party script, for pages that need WebAuthn; the CSP allows exactly it. */
  script?: string;
}

/**
 * A complete HTML response: strict CSP (no script, or only Gatehouse's one script file by its
 * exact URL; the one style block allowed by nonce), no framing, no caching, no referrer to other sites.
 */
export function page(parts: PageParts): Response {
  const nonce = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(16))));
  const flash = parts.flash
    ? `<div class="flash ${parts.flash.kind}" role="${parts.flash.kind === "error" ? "alert" : "status"}">${esc(parts.flash.text)}</div>`
    : "";
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(parts.title)} · Gatehouse</title>${parts.refreshTo ? `\n<meta http-equiv="refresh" content="0; url=${esc(parts.refreshTo)}">` : ""}
<style nonce="${nonce}">${STYLES}</style>
${parts.script ? `<script src="${esc(parts.script)}" defer></script>` : ""}
</head>
<body>
<main>
${flash}
${parts.body}
</main>
</body>
</html>`;
  const headers = new Headers({
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'${
      parts.script ? `; script-src ${parts.script}; connect-src 'self'` : ""}`,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    // Not no-referrer: under it a browser sends `Origin: null` on our own form posts, and over
    // plain HTTP (no Sec-Fetch-Site) the CSRF check would refuse every one of them.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  });
  for (const c of parts.cookies ?? []) headers.append("set-cookie", c);
  return new Response(html, { status: parts.status ?? 200, headers });
}

/** A 303 to `location` (a same-site path), with cookies. */
export function seeOther(location: string, cookies: readonly string[] = []): Response {
  const headers = new Headers({ location, "cache-control": "no-store" });
  for (const c of cookies) headers.append("set-cookie", c);
  return new Response(null, { status: 303, headers });
}
