/**
 * The ids a follower has handed on lately, each with its time, forgotten once older than what its
 * reads look back at: its memory holds the results of a few seconds, not of the whole retention.
 */
export class RecentIds {
  private readonly seen = new Map<string, number>();

  /** True the first time `id` comes; `at` (ms) decides when it is forgotten. */
  add(id: string, at: number): boolean {
    if (this.seen.has(id)) return false;
    this.seen.set(id, at);
    return true;
  }

  /** Forgets the ids from before `cutoff`: a read that looks back no further cannot return them. */
  forgetBefore(cutoff: number): void {
    for (const [id, at] of this.seen) if (at < cutoff) this.seen.delete(id);
  }

  get size(): number {
    return this.seen.size;
  }
}
