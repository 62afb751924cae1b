const BASE = "http://next.invalid";
const MAX_LENGTH = 2048;

/**
 * Where to send the browser after sign-in: `next` (or oauth2-proxy's `rd`) from the `/auth`
 * query, kept only when it stays on this site — a path (`/app?x=1`), or an absolute URL whose
 * origin is ours (`sameOrigins`: the request's own and `WEBUI_URL`'s). Returned as a path, so
 * the redirect can never leave the site (no `//evil`, `/\evil`, `https://evil`).
 *
 * nginx's `$request_uri` is not URL-encoded: when `next=`/`rd=` is the first parameter, the whole
 * rest of the query is taken as its value, so the original query string survives.
 */
export function nextFromQuery(url: URL, sameOrigins: readonly string[]): string | null {
  const raw = /^\?(?:next|rd)=(.*)$/s.exec(url.search)?.[1];
  if (raw === undefined) return safeNext(url.searchParams.get("next") ?? url.searchParams.get("rd"), sameOrigins);
  if (raw.startsWith("/")) return safeNext(raw, sameOrigins);
  try {
    return safeNext(decodeURIComponent(raw), sameOrigins);
  } catch {
    return null;
  }
}

/** `value` as a same-site path, or null (see {@link nextFromQuery}). */
export function safeNext(value: string | null | undefined, sameOrigins: readonly string[]): string | null {
  if (!value || value.length > MAX_LENGTH || /[\u0000-\u001f\\]/.test(value)) return null;
  let target: URL;
  if (value.startsWith("/")) {
    if (value.startsWith("//")) return null;
    target = new URL(value, BASE);
    if (target.origin !== BASE) return null;
  } else {
    const parsed = URL.parse(value);
    if (!parsed || !sameOrigins.includes(parsed.origin)) return null;
    target = parsed;
  }
  return `${target.pathname}${target.search}${target.hash}`;
}
