/**
 * Room name → members, for one instance. Sets are created on first join and removed when
 * the last member leaves, so an idle hub holds no empty rooms.
 */
export class RoomIndex<T> {
  readonly #rooms = new Map<string, Set<T>>();

  add(room: string, member: T): void {
    let set = this.#rooms.get(room);
    if (!set) this.#rooms.set(room, (set = new Set()));
    set.add(member);
  }

  remove(room: string, member: T): void {
    const set = this.#rooms.get(room);
    if (!set) return;
    set.delete(member);
    if (set.size === 0) this.#rooms.delete(room);
  }

  /** The members of `room` (an empty iterable when none). */
  members(room: string): ReadonlySet<T> {
    return this.#rooms.get(room) ?? EMPTY;
  }

  /** Number of rooms with at least one member. */
  get size(): number {
    return this.#rooms.size;
  }
}

const EMPTY: ReadonlySet<never> = new Set();
