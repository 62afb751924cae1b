import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import Ajv2020 from "ajv/dist/2020.js";
import { freshDatabaseUrl, redisUrl, uniquePrefix } from "../helpers/real-services.ts";
import { startTestApp, type TestApp } from "../helpers/test-app.ts";
import { postJson } from "../helpers/cookie-jar.ts";
import { ROUTE_CATALOG } from "../../src/http/openapi/route-catalog.ts";
import { routeKey } from "../../src/http/openapi/route-docs.ts";

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: Record<string, { content?: Record<string, { schema: unknown }> }>; requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
  components: { schemas: Record<string, unknown> };
};

let app: TestApp;
let doc: Doc;
let token = "";

beforeAll(async () => {
  app = await startTestApp({
    DATABASE_URL: await freshDatabaseUrl("openapi"),
    REDIS_URL: await redisUrl(),
    REDIS_KEY_PREFIX: uniquePrefix("openapi"),
    // A configured OIDC provider is not needed: the OAuth routes exist regardless.
  });
  const r = await app.request("/openapi/json");
  expect(r.status).toBe(200);
  doc = (await r.json()) as Doc;
});
afterAll(async () => {
  await app.close();
});

/** Validates a real response body against the schema the document gives for it. */
function conforms(path: string, method: string, status: number, body: unknown): string[] {
  const schema = doc.paths[path]?.[method]?.responses?.[String(status)]?.content?.["application/json"]?.schema;
  if (!schema) return [`no schema documented for ${method.toUpperCase()} ${path} ${status}`];
  const ajv = new Ajv2020({ strict: false });
  const validate = ajv.compile({ ...(schema as object), components: doc.components });
  return validate(body) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
}

describe("the OpenAPI document", () => {
  test("is a valid OpenAPI 3.1 document (official schema, via @seriousme/openapi-schema-validator)", async () => {
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(doc.openapi.startsWith("3.1")).toBe(true);
  });

  test("documents every route of the app, and the catalog names no route that does not exist", () => {
    const visible = app.instance.gatehouse.app.routes.filter((r) => (r.hooks as { detail?: { hide?: boolean } })?.detail?.hide !== true);
    const keys = visible.map((r) => routeKey(r.method, r.path));
    expect(keys.filter((k) => !(k in ROUTE_CATALOG))).toEqual([]);
    expect(Object.keys(ROUTE_CATALOG).filter((k) => !keys.includes(k))).toEqual([]);
    for (const r of visible) {
      const op = doc.paths[r.path.replace(/:([^/]+)/g, "{$1}")]?.[r.method.toLowerCase()];
      expect({ route: routeKey(r.method, r.path), summary: typeof op?.summary, tags: op?.tags?.length }).toEqual({ route: routeKey(r.method, r.path), summary: "string", tags: 1 });
      const statuses = Object.keys(op?.responses ?? {});
      expect(statuses.some((s) => /^[23]/.test(s))).toBe(true);
      // Every error answer is documented with the {"detail": ...} shape.
      for (const s of statuses.filter((x) => /^[45]/.test(x))) {
        expect(op!.responses![s]!.content!["application/json"]!.schema).toEqual({ $ref: "#/components/schemas/Detail" });
      }
    }
  });

  test("request bodies come from the routes' validators", () => {
    const signup = doc.paths["/api/v1/auths/signup"]!["post"]!.requestBody!.content["application/json"]!.schema;
    expect([...(signup.required ?? [])].sort()).toEqual(["email", "name", "password"]);
    expect(doc.paths["/api/v1/auths/update/password"]!["post"]!.requestBody).toBeDefined();
  });
});

describe("real answers conform to the documented schemas", () => {
  test("sign-up, session user, sessions, API key, readiness, usage, model grants", async () => {
    const up = await app.request("/api/v1/auths/signup", postJson({ name: "Opal", email: "opal@example.com", password: "openapi-horse-battery" }));
    const upBody = await up.json();
    expect(conforms("/api/v1/auths/signup", "post", 200, upBody)).toEqual([]);
    token = (upBody as { token: string }).token;
    const auth = { headers: { authorization: `Bearer ${token}` } };
    const checks: Array<[string, string, Promise<Response>]> = [
      ["/api/v1/auths/", "get", app.request("/api/v1/auths/", auth)],
      ["/api/v1/auths/sessions", "get", app.request("/api/v1/auths/sessions", auth)],
      ["/api/v1/auths/api_key", "post", app.request("/api/v1/auths/api_key", { method: "POST", ...auth })],
      ["/readyz", "get", app.request("/readyz")],
      ["/api/v1/gateway/usage", "get", app.request("/api/v1/gateway/usage", auth)],
      ["/api/v1/gateway/model-access", "get", app.request("/api/v1/gateway/model-access", auth)],
    ];
    for (const [path, method, pending] of checks) {
      const r = await pending;
      expect({ path, status: r.status }).toEqual({ path, status: 200 });
      expect({ path, problems: conforms(path, method, 200, await r.json()) }).toEqual({ path, problems: [] });
    }
  });

  test("errors: wrong password (400), no credentials (403), bad token (401), no JWKS with HS256 (404), no upstream (503)", async () => {
    const cases: Array<[string, string, number, Promise<Response>]> = [
      ["/api/v1/auths/signin", "post", 400, app.request("/api/v1/auths/signin", postJson({ email: "opal@example.com", password: "wrong" }))],
      ["/api/v1/auths/", "get", 403, app.request("/api/v1/auths/")],
      ["/api/v1/auths/", "get", 401, app.request("/api/v1/auths/", { headers: { authorization: "Bearer nope" } })],
      ["/.well-known/jwks.json", "get", 404, app.request("/.well-known/jwks.json")],
      ["/api/models", "get", 503, app.request("/api/models", { headers: { authorization: `Bearer ${token}` } })],
    ];
    for (const [path, method, status, pending] of cases) {
      const r = await pending;
      expect({ path, status: r.status }).toEqual({ path, status });
      expect({ path, problems: conforms(path, method, status, await r.json()) }).toEqual({ path, problems: [] });
    }
  });
});

describe("the docs page", () => {
  test("/openapi serves Swagger UI from our own origin: no third-party asset", async () => {
    const r = await app.request("/openapi");
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/html");
    const html = await r.text();
    expect(html).toContain("/openapi/assets/swagger-ui-bundle.js");
    expect(html).toContain("/openapi/assets/swagger-ui.css");
    expect(html).not.toMatch(/(src|href)="https?:\/\//);
    const js = await app.request("/openapi/assets/swagger-ui-bundle.js");
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("javascript");
    expect((await js.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const other = await app.request("/openapi/assets/..%2Fpackage.json");
    expect(other.status).toBe(404);
    expect(await other.json()).toEqual({ detail: "Not Found" });
  });

  test("GATEHOUSE_OPENAPI=false serves neither the page nor the document", async () => {
    const off = await startTestApp({ DATABASE_URL: await freshDatabaseUrl("openapi_off"), GATEHOUSE_OPENAPI: "false" });
    try {
      expect((await off.request("/openapi/json")).status).toBe(404);
      expect((await off.request("/openapi")).status).toBe(404);
    } finally {
      await off.close();
    }
  });
});
