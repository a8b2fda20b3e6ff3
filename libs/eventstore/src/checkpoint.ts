import { InvalidEventStoreArgument } from "./errors.js";

/**
 * Where a `readAll` reader is in the log: opaque to callers, stored as text by them and
 * valid across restarts of the process and of the server. Inside it is
 * "<writing transaction id (xid8)>:<global position>", the sort key of `readAll`.
 */
export type Checkpoint = string & { readonly __brand: "eventstore.Checkpoint" };

/** Before the first event. */
export const START: Checkpoint = "0:0" as Checkpoint;

export interface CheckpointParts {
  /** xid8 as a decimal string (64-bit; compared only in SQL). */
  transactionId: string;
  position: number;
}

const FORMAT = /^(\d{1,20}):(\d{1,16})$/;

export function makeCheckpoint(transactionId: string, position: number): Checkpoint {
  return `${transactionId}:${position}` as Checkpoint;
}

export function parseCheckpoint(value: string, field = "checkpoint"): CheckpointParts {
  const m = FORMAT.exec(value);
  const position = m ? Number(m[2]) : Number.NaN;
  if (!m || !Number.isSafeInteger(position)) {
    throw new InvalidEventStoreArgument(
      field,
      `must be a checkpoint returned by readAll (like "${START}"), got ${JSON.stringify(value)}`,
    );
  }
  return { transactionId: m[1]!, position };
}
