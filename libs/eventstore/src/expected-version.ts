import { InvalidEventStoreArgument } from "./errors.js";

/**
 * What an append expects of its stream:
 * - `"any"`: no check;
 * - `"no_stream"`: the stream has no events yet (same as version 0);
 * - `"stream_exists"`: the stream has at least one event;
 * - a number: the stream's current version (versions count events: the first event is 1).
 */
export type ExpectedVersion = "any" | "no_stream" | "stream_exists" | number;

// Codes passed to the SQL function; exact versions are >= 0.
const ANY = -1;
export const NO_STREAM = -2;
const STREAM_EXISTS = -3;

export function encodeExpectedVersion(expected: ExpectedVersion, field = "expected"): number {
  switch (expected) {
    case "any":
      return ANY;
    case "no_stream":
      return NO_STREAM;
    case "stream_exists":
      return STREAM_EXISTS;
    default:
      if (!Number.isSafeInteger(expected) || expected < 0) {
        throw new InvalidEventStoreArgument(
          field,
          `must be "any", "no_stream", "stream_exists" or a version >= 0, got ${String(expected)}`,
        );
      }
      return expected;
  }
}

export function describeExpectedVersion(expected: ExpectedVersion): string {
  return typeof expected === "number" ? String(expected) : `"${expected}"`;
}

/** Pure version check, the same rule the SQL function applies (used by the bulk path). */
export function satisfiesExpectedVersion(expected: ExpectedVersion, actual: number): boolean {
  switch (expected) {
    case "any":
      return true;
    case "no_stream":
      return actual === 0;
    case "stream_exists":
      return actual > 0;
    default:
      return actual === expected;
  }
}
