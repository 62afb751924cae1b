import { describe, expect, test } from "bun:test";
import { groupsFromClaims } from "../../src/groups/claim-groups.ts";
import { normaliseGroupNames } from "../../src/groups/group-sync.ts";

describe("groups from OAuth claims (Open WebUI's reading)", () => {
  test("array, separated string, nested path, a key containing dots, and anything else as no groups", () => {
    expect(groupsFromClaims({ groups: ["a", "b", 3, null] }, "groups", ";")).toEqual(["a", "b"]);
    expect(groupsFromClaims({ groups: "a;b; c" }, "groups", ";")).toEqual(["a", "b", " c"]);
    expect(groupsFromClaims({ realm_access: { roles: { groups: ["x"] } } }, "realm_access.roles.groups", ";")).toEqual(["x"]);
    expect(groupsFromClaims({ "https://example.com/groups": ["y"] }, "https://example.com/groups", ";")).toEqual(["y"]);
    for (const claims of [{}, { groups: 5 }, { groups: { a: 1 } }, { realm_access: ["groups"] }, { realm_access: null }]) {
      expect(groupsFromClaims(claims, "realm_access.groups", ";")).toEqual([]);
    }
    expect(groupsFromClaims(JSON.parse('{"__proto__": {"groups": ["polluted"]}}'), "__proto__.groups", ";")).toEqual(["polluted"]);
    expect(groupsFromClaims({}, "constructor.name", ";")).toEqual([]);
  });

  test("names are trimmed, de-duplicated, blank and over-long ones dropped, at most 500 kept", () => {
    expect(normaliseGroupNames([" a ", "a", "", "  ", "b", 7, "x".repeat(256)])).toEqual(["a", "b"]);
    expect(normaliseGroupNames(Array.from({ length: 2000 }, (_, i) => `g${i}`))).toHaveLength(500);
  });
});
