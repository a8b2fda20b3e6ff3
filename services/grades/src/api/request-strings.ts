import { hasControlCharacter } from "@otmetka/service-kit";
import { invalidInput } from "../domain/errors.js";

/*
 * Every string of a command request, checked before anything reads or writes with it. NUL
 * fails in PostgreSQL (INTERNAL here) and, once in an event, stalls every projection that
 * stores it; other control characters have no place in ids or one-line values.
 */

/** Free texts about a pupil or a term, where line breaks and tabs belong. */
const MULTILINE = new Set(["comment", "reason", "note"]);
/** Ids (ours are UUIDs or short subject codes) and command ids. */
export const MAX_ID = 200;

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isId = (key: string) => /Ids?$/.test(key);

/** INVALID_ARGUMENT naming the field as the proto does (`marks[1].comment`), never the value. */
export function checkRequestStrings(request: unknown): void {
  walk(request, "", "");
}

function walk(value: unknown, path: string, key: string): void {
  if (typeof value === "string") {
    const multiline = MULTILINE.has(key);
    if (hasControlCharacter(value, multiline))
      throw invalidInput(
        path,
        multiline
          ? "must not contain NUL or other control characters (line breaks and tabs aside)"
          : "must not contain control characters",
      );
    if (isId(key) && value.length > MAX_ID)
      throw invalidInput(path, `must be at most ${MAX_ID} characters`);
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, key);
    return;
  }
  if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value))
      walk(v, path === "" ? snake(k) : `${path}.${snake(k)}`, k);
}
