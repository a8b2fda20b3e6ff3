import { hasControlCharacter } from "@otmetka/service-kit";
import { invalidInput } from "../domain/errors.js";
import { TEXT_LIMITS } from "../domain/text.js";

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
/** Ids, and person ids named by who acted (`conducted_by`, `approved_by`). */
const isIdKey = (key: string) => /(Id|Ids|By)$/.test(key);
/** The free texts where line breaks and tabs belong; every other string is one line. */
const MULTILINE_KEYS = new Set(["homework", "reason"]);

/**
 * Checks every string of a request before anything reads or writes with it: no NUL or other
 * control characters (tab and line breaks only in homework and a reason, and around a text
 * its command trims; an id with a line break reached the events as given), ids at most
 * TEXT_LIMITS.id characters, anything else at most TEXT_LIMITS.any. INVALID_ARGUMENT names
 * the field as the proto does (`items[1].topic`), never echoes it.
 */
export function checkRequestStrings(request: unknown): void {
  walk(request, "", "");
}

function walk(value: unknown, path: string, key: string): void {
  if (typeof value === "string") {
    const multiline = MULTILINE_KEYS.has(key);
    const id = isIdKey(key);
    // White space around a text is trimmed by its command (names, topics); never around an id.
    if (hasControlCharacter(id ? value : value.trim(), multiline))
      throw invalidInput(
        path,
        multiline
          ? "must not contain NUL or other control characters"
          : "must not contain control characters (one line)",
      );
    const max = id ? TEXT_LIMITS.id : TEXT_LIMITS.any;
    if (value.length > max) throw invalidInput(path, `must be at most ${max} characters`);
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, key);
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      walk(v, path === "" ? snake(k) : `${path}.${snake(k)}`, k);
    }
  }
}
