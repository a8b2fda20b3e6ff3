/**
 * A sleep that ends early: `wait(ms)` resolves after `ms`, on the next `wake()` or when the
 * signal aborts, whichever comes first. A `wake()` while nobody waits is remembered for the
 * next `wait`, so a wake-up between two waits is not lost.
 */
export class Wakeup {
  private waiter: (() => void) | undefined;
  private pending = false;

  wake(): void {
    const w = this.waiter;
    if (w) w();
    else this.pending = true;
  }

  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.waiter = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.waiter = done;
    });
  }
}
