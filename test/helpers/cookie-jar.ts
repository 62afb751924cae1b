/** A minimal cookie jar: remembers Set-Cookie values (deleting on Max-Age=0) and sends them back. */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** Records every Set-Cookie of a response; returns the raw header values. */
  take(res: Response): string[] {
    const all = res.headers.getSetCookie();
    for (const c of all) {
      const [pair] = c.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1);
      if (/;\s*Max-Age=0/i.test(c) || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return all;
  }

  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** Request init with the jar's cookies merged in. */
  with(init: RequestInit = {}): RequestInit {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set("cookie", this.header());
    return { ...init, headers };
  }
}

/** JSON POST init. */
export function postJson(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) };
}
