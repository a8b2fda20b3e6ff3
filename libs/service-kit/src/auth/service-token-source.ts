import type { Clock } from "../clock.js";
import { systemClock } from "../clock.js";

export interface IssuedToken {
  token: string;
  expiresAt: Date;
}

export interface ServiceTokenSource {
  /** A token valid for at least `renewBeforeMs` more; fetched again only when needed. */
  token(): Promise<string>;
}

/**
 * Caches a service's own token (from identity's IssueServiceToken, wired by the service) and
 * renews it before it expires; concurrent callers share one fetch.
 */
export function createServiceTokenSource(
  issue: () => Promise<IssuedToken>,
  options: { renewBeforeMs?: number; clock?: Clock } = {},
): ServiceTokenSource {
  const renewBeforeMs = options.renewBeforeMs ?? 60_000;
  const clock = options.clock ?? systemClock;
  let current: IssuedToken | undefined;
  let pending: Promise<IssuedToken> | undefined;
  return {
    async token() {
      if (current && current.expiresAt.getTime() - clock.now().getTime() > renewBeforeMs) {
        return current.token;
      }
      pending ??= issue().finally(() => {
        pending = undefined;
      });
      current = await pending;
      return current.token;
    },
  };
}
