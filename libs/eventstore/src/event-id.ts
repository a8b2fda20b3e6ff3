import { randomFillSync } from "node:crypto";
import { v7 as uuidv7 } from "uuid";

// uuid's own v7 asks crypto.getRandomValues for 16 bytes per id (a native job each time, a
// sizeable share of a bulk append's CPU); here the random bytes come from a pool refilled
// 4 KiB at a time, and the same monotonic (time, counter) state is kept as uuid keeps it.
const pool = new Uint8Array(16 * 256);
let taken = pool.length;
let msecs = Number.NEGATIVE_INFINITY;
let seq = 0;

/** A new event id: UUIDv7, time-ordered, so the unique index on event ids stays compact. */
export function newEventId(): string {
  if (taken === pool.length) {
    randomFillSync(pool);
    taken = 0;
  }
  const random = pool.subarray(taken, taken + 16);
  taken += 16;
  const now = Date.now();
  if (now > msecs) {
    // A fresh 31-bit counter each millisecond, from the random bytes (as uuid does).
    seq = ((random[6]! & 0x7f) << 24) | (random[7]! << 16) | (random[8]! << 8) | random[9]!;
    msecs = now;
  } else {
    seq = (seq + 1) | 0;
    if (seq === 0) msecs++;
  }
  return uuidv7({ random, msecs, seq });
}
