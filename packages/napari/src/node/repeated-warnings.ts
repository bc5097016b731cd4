/**
 * Warnings about something that can happen again and again for as long as a peer misbehaves: a ring
 * whose writer died while napari still names it is found, opened and lost again every second, for
 * hours. Each cause (a key) is said once in full; after that at most one line per `everyMs`, with the
 * count since the last line, and only while it keeps happening (no timer of its own).
 */
export class RepeatedWarnings {
  private readonly seen = new Map<string, { last: number; since: number }>();

  /**
   * @param write where a warning goes (the bridge's logger)
   * @param everyMs least time between two lines for one cause; @default 30000
   * @param maxKeys causes remembered (a peer that keeps inventing new ring names must not grow memory
   *   without bound: past it, the oldest is forgotten and may be said once more); @default 1024
   */
  constructor(
    private readonly write: (message: string) => void,
    private readonly everyMs = 30_000,
    private readonly maxKeys = 1_024,
  ) {}

  /** Says `message` the first time `key` comes; then counts, with a summary line every `everyMs`. */
  warn(key: string, message: string): void {
    const now = Date.now();
    const entry = this.seen.get(key);
    if (entry === undefined) {
      this.remember(key, { last: now, since: 0 });
      this.write(message);
      return;
    }
    entry.since++;
    if (now - entry.last < this.everyMs) return;
    this.write(`${message} (again: ${entry.since} times in the last ${Math.round((now - entry.last) / 1000)} s)`);
    entry.last = now;
    entry.since = 0;
  }

  /** Says `message` the first time `key` comes, and never again. */
  once(key: string, message: string): void {
    if (this.seen.has(key)) return;
    this.remember(key, { last: Date.now(), since: 0 });
    this.write(message);
  }

  private remember(key: string, entry: { last: number; since: number }): void {
    if (this.seen.size >= this.maxKeys) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    this.seen.set(key, entry);
  }
}
