import { v7 as uuidv7 } from "uuid";

/** A new event id: UUIDv7, time-ordered, so the unique index on event ids stays compact. */
export function newEventId(): string {
  return uuidv7();
}
