import { ServiceError } from "../errors.ts";
import type { AuditTrail } from "../observability/audit-trail.ts";
import type { GroupsRepo } from "./groups-repo.ts";

/** 403 for a sign-in by a non-admin user in none of the `GATEHOUSE_ACCESS_GROUPS`. */
export class AccessGroupRequiredError extends ServiceError {
  constructor() {
    super("ERR_ACCESS_GROUP_REQUIRED", 403, "Your account is not a member of any group that grants access to this service. Ask your administrator to add you to one.");
  }
}

/** The user fields the access check reads. */
export interface AccessSubject {
  id: string;
  role: string;
}

/**
 * `GATEHOUSE_ACCESS_GROUPS`: the groups that grant access. Off (no names) changes nothing.
 * When on, a non-admin user must be a member of at least one of them to be issued a session,
 * and a user who leaves the last of them is told apart by {@link lostAccess} so the caller can
 * end their sessions. Admins always pass: this setting can never lock out the administrator.
 */
export class AccessGroups {
  readonly #names: readonly string[];

  constructor(
    names: readonly string[],
    private readonly repo: Pick<GroupsRepo, "usersOutside">,
    private readonly audit?: AuditTrail,
  ) {
    this.#names = [...names];
  }

  /** True when `GATEHOUSE_ACCESS_GROUPS` names at least one group. */
  get enabled(): boolean {
    return this.#names.length > 0;
  }

  /** True when a group of this name grants access. */
  grants(name: string | null): boolean {
    return name !== null && this.#names.includes(name);
  }

  /**
   * Refuses (403, audited) a sign-in by a non-admin user in no access group; one indexed
   * query when on, none when off or for an admin.
   */
  async admit(user: AccessSubject, method: string): Promise<void> {
    if (!this.enabled || user.role === "admin") return;
    if ((await this.repo.usersOutside([user.id], this.#names)).length === 0) return;
    this.audit?.record("signin", "refused", { userId: user.id, method, reason: "no_access_group" });
    throw new AccessGroupRequiredError();
  }

  /**
   * Of `userIds`, who just left the groups named `left` (memberships already committed), the
   * non-admin users now in none of the access groups. Empty when off or when none of `left`
   * granted access, without touching the database.
   */
  async lostAccess(userIds: readonly string[], left: readonly (string | null)[]): Promise<string[]> {
    if (!this.enabled || userIds.length === 0 || !left.some((n) => this.grants(n))) return [];
    return this.repo.usersOutside(userIds, this.#names);
  }
}
