/** Lockout after repeated failed logins, with exponential back-off (pure; the clock is passed). */
export interface LockoutPolicy {
  /** Consecutive failures that lock the account. */
  maxFailures: number;
  /** Length of the first lock; each further lock doubles it. */
  baseLockMs: number;
  maxLockMs: number;
}

export const DEFAULT_LOCKOUT: LockoutPolicy = {
  maxFailures: 5,
  baseLockMs: 60_000,
  maxLockMs: 60 * 60_000,
};

export interface LockoutState {
  failedAttempts: number;
  /** How many times the account has been locked since its last successful login. */
  lockouts: number;
  lockedUntil: Date | null;
}

export const isLocked = (s: LockoutState, now: Date) =>
  s.lockedUntil !== null && s.lockedUntil.getTime() > now.getTime();

/**
 * The state after one more failure: the maxFailures-th consecutive failure locks for
 * base * 2^(lockouts so far), capped; the failure count starts again after a lock.
 */
export function afterFailure(p: LockoutPolicy, s: LockoutState, now: Date): LockoutState {
  const failedAttempts = s.failedAttempts + 1;
  if (failedAttempts < p.maxFailures) return { ...s, failedAttempts };
  const ms = Math.min(p.baseLockMs * 2 ** s.lockouts, p.maxLockMs);
  return {
    failedAttempts: 0,
    lockouts: s.lockouts + 1,
    lockedUntil: new Date(now.getTime() + ms),
  };
}

export const afterSuccess = (): LockoutState => ({
  failedAttempts: 0,
  lockouts: 0,
  lockedUntil: null,
});
