import type { Kysely } from "kysely";
import { appendCommandsJson } from "./2026-11-28-005-eventstore-append-commands-json.js";

/**
 * append_commands_json answers a batch holding an id already recorded (a client's retry, the
 * common case, or a concurrent writer) with `separately` instead of raising OTE02: it deletes
 * the records it has just inserted, the only rows written so far. The exception made
 * PostgreSQL log an ERROR for every retried command that reached a batch, with the whole
 * batch's document under `log_min_error_statement`, and its message ("recorded
 * concurrently") was wrong for a plain retry. The caller still appends each command alone
 * and answers each exactly; it keeps accepting OTE02 from instances on 006.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await appendCommandsJson({ precheckCommands: false, recordedIds: "undo" }).execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await appendCommandsJson({ precheckCommands: false, recordedIds: "raise" }).execute(db);
}
