/** A JSON response with any number of `Set-Cookie` headers. */
export function json(body: unknown, init: { status?: number; cookies?: readonly string[]; headers?: Record<string, string> } = {}): Response {
  const headers = new Headers({ "content-type": "application/json", ...init.headers });
  for (const c of init.cookies ?? []) headers.append("set-cookie", c);
  return new Response(JSON.stringify(body), { status: init.status ?? 200, headers });
}

/**
 * `response` with one more header value. Some responses have immutable headers (a
 * `Response.redirect`, a passed-through upstream response): those are copied first.
 */
export function appendHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.append(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.append(name, value);
    return copy;
  }
}

/** {@link appendHeader} for two headers at once (one try, at most one copy). */
export function appendHeaders(response: Response, name1: string, value1: string, name2: string, value2: string): Response {
  let headers = response.headers;
  try {
    headers.append(name1, value1);
  } catch {
    response = new Response(response.body, response);
    headers = response.headers;
    headers.append(name1, value1);
  }
  headers.append(name2, value2);
  return response;
}
