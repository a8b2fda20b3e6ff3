import type { Kysely } from "kysely";
import { appendCommandsJson } from "./2026-11-28-005-eventstore-append-commands-json.js";

/**
 * append_commands_json without its look-up of the batch's command ids before the writes. That
 * look-up is planned once per session (plpgsql caches the plan) for an estimated 100 ids
 * against the table's size: with 1,000 to 20,000 recorded commands (not 60,000) it was a hash
 * join over the whole table, so every batch read every command ever recorded (on the grades
 * benchmark's machine the largest single cost of PostgreSQL). The records' insert already
 * answers the question through the primary key: `ON CONFLICT (command_id) DO NOTHING` and the
 * row count raise OTE02 when an id is recorded, which undoes the statement, and the caller
 * appends each command alone — the same answer the look-up gave, only after the stream locks.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await appendCommandsJson({ precheckCommands: false }).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await appendCommandsJson({ precheckCommands: true }).execute(db);
}
