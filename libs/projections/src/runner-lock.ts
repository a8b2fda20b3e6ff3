import { setTimeout as sleep } from "node:timers/promises";
import type pg from "pg";

/** Advisory lock class of "the one live runner of a projection" (key 2 = hashtext(schema)). */
export const RUNNER_LOCK_CLASS = 0x50524f52; // "PROR"

/**
 * Holds a session advisory lock on its own connection while the runner lives: two runners
 * sharing one durable consumer would split its messages, and the later commit's checkpoint
 * would make the other's batch look already applied. A second runner waits as a standby.
 * (Portal's feed publisher holds one too, under its own key.)
 */
export class RunnerLock {
  private client: pg.PoolClient | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

  async acquire(signal: AbortSignal, onWaiting?: () => void, retryMs = 1000): Promise<boolean> {
    const client = await this.pool.connect();
    // Listening from the start: an unheard 'error' of a checked-out client would crash the
    // process. While waiting, the failed query below reports it; once held, losing it does.
    client.on("error", (err) => {
      if (this.client !== client) return;
      this.client = undefined;
      client.release(err);
      this.onLost?.();
    });
    let told = false;
    try {
      while (!signal.aborted) {
        const r = await client.query<{ ok: boolean }>(
          "SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok",
          [RUNNER_LOCK_CLASS, this.schema],
        );
        if (r.rows[0]?.ok) {
          // A lost connection loses the lock: stop at once rather than run beside a successor.
          this.client = client;
          return true;
        }
        if (!told) onWaiting?.();
        told = true;
        await sleep(retryMs, undefined, { signal }).catch(() => {});
      }
    } catch (err) {
      // The connection failed while waiting: discard it, the caller tries again.
      client.release(err as Error);
      throw err;
    }
    client.release();
    return false;
  }

  /** Called once when the held lock's connection fails (the lock is gone with it). */
  onLost: (() => void) | undefined;

  get held(): boolean {
    return this.client !== undefined;
  }

  async release(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    await c
      .query("SELECT pg_advisory_unlock($1, hashtext($2))", [RUNNER_LOCK_CLASS, this.schema])
      .catch(() => {});
    c.release();
  }
}
