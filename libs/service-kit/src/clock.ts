/**
 * The one way code asks for the time, so tests can pin or move it instead of sleeping.
 * Instants are UTC `Date`s; civil-date.ts turns them into a school's civil date.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Always answers the same instant. */
export function fixedClock(at: Date | string): Clock {
  const ms = new Date(at).getTime();
  if (Number.isNaN(ms)) throw new RangeError(`fixedClock: not a date: ${String(at)}`);
  return { now: () => new Date(ms) };
}

/** A clock that a test moves by hand; it never moves by itself. */
export interface ManualClock extends Clock {
  set(at: Date | string): void;
  advance(ms: number): void;
}

export function manualClock(start: Date | string): ManualClock {
  let current = fixedClock(start).now().getTime();
  return {
    now: () => new Date(current),
    set: (at) => {
      current = fixedClock(at).now().getTime();
    },
    advance: (ms) => {
      if (!Number.isFinite(ms)) throw new RangeError(`manualClock.advance: not a number: ${ms}`);
      current += ms;
    },
  };
}
