import { Elysia } from "elysia";
import type { Services } from "../services.ts";
import type { AuthModule } from "../auth/auth-module.ts";
import type { GroupsModule } from "../groups/groups-module.ts";
import { OAuthSessionsRepo } from "../db/repos/oauth-sessions.ts";
import { createScimMetrics } from "../observability/scim-metrics.ts";
import { ScimError, SCIM_CONTENT_TYPE } from "../scim/scim-error.ts";
import { ScimTokenVerifier } from "../scim/scim-token.ts";
import { readScimObject } from "../scim/scim-body.ts";
import { ScimUsersRepo } from "../scim/scim-users-repo.ts";
import { ScimUsers } from "../scim/scim-users.ts";
import { ScimGroups } from "../scim/scim-groups.ts";
import { Deprovisioner } from "../scim/deprovision.ts";
import { resourceTypes, schemas, serviceProviderConfig } from "../scim/scim-resources.ts";

const PREFIX = "/api/v1/scim/v2";

/** The handler's view of one request. */
interface Call {
  request: Request;
  id: string;
  base: string;
  params: URLSearchParams;
}

type Result = { status?: number; body?: unknown; target?: string; deprovisioned?: boolean };

/**
 * SCIM 2.0 (RFC 7643/7644) at Open WebUI's path, for Okta, Entra ID and other provisioning
 * clients: bearer `SCIM_TOKEN` (constant-time), Users and Groups, discovery endpoints.
 * Every answer — errors included — is SCIM JSON; every request is counted
 * (`gatehouse_scim_requests_total`) and audited (never the token). Deactivating or
 * deleting a user ends all of their sessions on every instance.
 */
export function scimRoutes(s: Pick<Services, "config" | "pool" | "audit" | "log" | "registry">, auth: AuthModule, groups: GroupsModule) {
  const cfg = s.config.scim;
  const verifier = new ScimTokenVerifier(cfg.enabled, cfg.token);
  const count = createScimMetrics(s.registry);
  const scimUsers = new ScimUsersRepo(s.pool, cfg.provider);
  const deprovisioner = new Deprovisioner(auth, new OAuthSessionsRepo(s.pool));
  const users = new ScimUsers({
    scimUsers, users: auth.users, groups: groups.repo, passwords: auth.passwords, deprovisioner,
    invalidateUser: (id) => auth.userCache.invalidate(id),
  });
  const groupsApi = new ScimGroups(groups.repo, scimUsers, s.audit, groups.membershipChanged, groups.membershipsLost);

  const handle = (resource: string, op: string, fn: (c: Call) => Promise<Result>) =>
    async (ctx: { request: Request; params?: Record<string, string | undefined> }) => {
      const { request } = ctx;
      const params = ctx.params ?? {};
      let status = 500;
      let result: Result = {};
      try {
        await verifier.check(request);
        const url = new URL(request.url);
        result = await fn({ request, id: params["id"] ?? "", base: `${s.config.server.publicUrl?.replace(/\/$/, "") ?? url.origin}${PREFIX}`, params: url.searchParams });
        status = result.status ?? 200;
        return status === 204
          ? new Response(null, { status })
          : new Response(JSON.stringify(result.body), { status, headers: { "content-type": SCIM_CONTENT_TYPE } });
      } catch (e) {
        const err = toScimError(e);
        if (err.status === 500) s.log.error({ err: (e as Error)?.message, resource, op }, "SCIM request failed");
        status = err.status;
        return err.toResponse();
      } finally {
        count(resource, op, status);
        if (resource === "Users" || resource === "Groups") {
          s.audit.record("scim", status < 400 ? "success" : status === 401 || status === 403 ? "refused" : "failure", {
            actor: "scim_client", resource, op, status,
            ...(params["id"] || result.target ? { target: result.target ?? params["id"] } : {}),
            ...(result.deprovisioned ? { deprovisioned: true } : {}),
          });
        }
      }
    };
  const none = { parse: "none" } as const;

  return new Elysia({ name: "gatehouse.scim", prefix: PREFIX })
    .get("/ServiceProviderConfig", handle("ServiceProviderConfig", "get", async (c) => ({ body: serviceProviderConfig(c.base) })))
    .get("/ResourceTypes", handle("ResourceTypes", "list", async (c) => ({ body: listOf(resourceTypes(c.base)) })))
    .get("/ResourceTypes/:id", handle("ResourceTypes", "get", async (c) => ({ body: one(resourceTypes(c.base), c.id, "ResourceType") })))
    .get("/Schemas", handle("Schemas", "list", async (c) => ({ body: listOf(schemas(c.base)) })))
    .get("/Schemas/:id", handle("Schemas", "get", async (c) => ({ body: one(schemas(c.base), c.id, "Schema") })))
    .get("/Users", handle("Users", "list", async (c) => ({ body: await users.list(c.params, c.base) })))
    .post("/Users", handle("Users", "create", async (c) => {
      const r = await users.create(await readScimObject(c.request), c.base);
      return { status: 201, body: r.resource, target: r.id };
    }), none)
    .get("/Users/:id", handle("Users", "get", async (c) => ({ body: await users.get(c.id, c.base) })))
    .put("/Users/:id", handle("Users", "replace", async (c) => {
      const r = await users.replace(c.id, await readScimObject(c.request), c.base);
      return { body: r.resource, deprovisioned: r.deprovisioned };
    }), none)
    .patch("/Users/:id", handle("Users", "patch", async (c) => {
      const r = await users.patch(c.id, await readScimObject(c.request), c.base);
      return { body: r.resource, deprovisioned: r.deprovisioned };
    }), none)
    .delete("/Users/:id", handle("Users", "delete", async (c) => {
      await users.delete(c.id);
      return { status: 204, deprovisioned: true };
    }), none)
    .get("/Groups", handle("Groups", "list", async (c) => ({ body: await groupsApi.list(c.params, c.base) })))
    .post("/Groups", handle("Groups", "create", async (c) => {
      const r = await groupsApi.create(await readScimObject(c.request), c.base);
      return { status: 201, body: r.resource, target: r.id };
    }), none)
    .get("/Groups/:id", handle("Groups", "get", async (c) => ({ body: await groupsApi.get(c.id, c.params, c.base) })))
    .put("/Groups/:id", handle("Groups", "replace", async (c) => ({ body: await groupsApi.replace(c.id, await readScimObject(c.request), c.base) })), none)
    .patch("/Groups/:id", handle("Groups", "patch", async (c) => ({ body: await groupsApi.patch(c.id, await readScimObject(c.request), c.base) })), none)
    .delete("/Groups/:id", handle("Groups", "delete", async (c) => {
      await groupsApi.delete(c.id);
      return { status: 204 };
    }), none)
    .all("/*", handle("unknown", "unknown", async () => {
      throw new ScimError(404, "Unknown SCIM endpoint");
    }), { parse: "none", detail: { hide: true } });
}

function listOf(resources: unknown[]): Record<string, unknown> {
  return { schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], totalResults: resources.length, itemsPerPage: resources.length, startIndex: 1, Resources: resources };
}

function one(resources: Array<Record<string, unknown>>, id: string, what: string): Record<string, unknown> {
  const r = resources.find((x) => x["id"] === id);
  if (!r) throw new ScimError(404, `${what} ${id.slice(0, 200)} not found`);
  return r;
}

/** Any failure as a SCIM error: client-caused database errors are 400/409, the rest 500 (logged, not echoed). */
function toScimError(e: unknown): ScimError {
  if (e instanceof ScimError) return e;
  const status = (e as { status?: unknown }).status;
  const pgCode = (e as { code?: unknown }).code;
  if (typeof pgCode === "string" && /^22[0-9A-Z]{3}$/.test(pgCode)) return new ScimError(400, "Invalid value in request", "invalidValue");
  if (pgCode === "23505") return new ScimError(409, "A resource with this value already exists", "uniqueness");
  if (typeof status === "number" && status >= 400 && status < 600) return new ScimError(status, status === 503 ? "Service unavailable, retry later" : (e as Error).message);
  return new ScimError(500, "Internal Server Error");
}
