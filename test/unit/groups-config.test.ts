import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config/config.ts";
import { ConfigError } from "../../src/config/errors.ts";

const refused = (env: Record<string, string>, variable: string) => {
  let caught: unknown;
  try {
    loadConfig(env);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  expect((caught as ConfigError).variable).toBe(variable);
  return (caught as ConfigError).message;
};

describe("group and SCIM settings", () => {
  test("defaults: everything off, Open WebUI's claim name and separator", () => {
    const c = loadConfig({});
    expect(c.groups).toMatchObject({ oauthManagement: false, oauthClaim: "groups", oauthSeparator: ";", oauthCreation: false, trustedGroupsHeader: null });
    expect(c.groups.blocked("anything")).toBe(false);
    expect(c.scim).toEqual({ enabled: false, token: null, provider: "oidc" });
  });

  test("OAUTH_GROUPS_CLAIM wins over the older OAUTH_GROUP_CLAIM; the header name is lower-cased", () => {
    expect(loadConfig({ OAUTH_GROUP_CLAIM: "old" }).groups.oauthClaim).toBe("old");
    expect(loadConfig({ OAUTH_GROUP_CLAIM: "old", OAUTH_GROUPS_CLAIM: "new.path" }).groups.oauthClaim).toBe("new.path");
    expect(loadConfig({ WEBUI_AUTH_TRUSTED_GROUPS_HEADER: "X-Groups" }).groups.trustedGroupsHeader).toBe("x-groups");
  });

  test("GATEHOUSE_ACCESS_GROUPS: off by default; a comma-separated list, trimmed, blanks and repeats dropped", () => {
    expect(loadConfig({}).groups.accessGroups).toEqual([]);
    expect(loadConfig({ GATEHOUSE_ACCESS_GROUPS: "" }).groups.accessGroups).toEqual([]);
    expect(loadConfig({ GATEHOUSE_ACCESS_GROUPS: " staff, ,contractors,staff " }).groups.accessGroups).toEqual(["staff", "contractors"]);
  });

  test("a backtracking, invalid or non-list OAUTH_BLOCKED_GROUPS is refused at boot, naming the variable", () => {
    expect(refused({ OAUTH_BLOCKED_GROUPS: '["ok", "(a+)+$"]' }, "OAUTH_BLOCKED_GROUPS")).toContain("backtrack");
    refused({ OAUTH_BLOCKED_GROUPS: '["[unclosed"]' }, "OAUTH_BLOCKED_GROUPS");
    refused({ OAUTH_BLOCKED_GROUPS: "admins" }, "OAUTH_BLOCKED_GROUPS");
    refused({ OAUTH_BLOCKED_GROUPS: '{"a": 1}' }, "OAUTH_BLOCKED_GROUPS");
    expect(loadConfig({ OAUTH_BLOCKED_GROUPS: '["admins", "sys-*"]' }).groups.blocked("sys-x")).toBe(true);
  });

  test("ENABLE_SCIM without a token of 16+ characters is refused, and the message never holds the token", () => {
    refused({ ENABLE_SCIM: "true" }, "SCIM_TOKEN");
    expect(refused({ ENABLE_SCIM: "true", SCIM_TOKEN: "short-secret" }, "SCIM_TOKEN")).not.toContain("short-secret");
    expect(loadConfig({ ENABLE_SCIM: "true", SCIM_TOKEN: "x".repeat(16), SCIM_AUTH_PROVIDER: "microsoft" }).scim).toEqual({ enabled: true, token: "x".repeat(16), provider: "microsoft" });
  });
});
