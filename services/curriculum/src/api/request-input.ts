import { hasControlCharacter } from "@otmetka/service-kit";
import { invalidInput } from "../domain/errors.js";
import { TEXT_LIMITS } from "../domain/text.js";

const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const isIdKey = (key: string) => /(Id|Ids)$/.test(key);

/**
 * Checks every string of a request before anything reads or writes with it: no NUL or other
 * control characters (tab and line breaks aside; single-line texts are checked again by their
 * command), ids at most TEXT_LIMITS.id characters, anything else at most TEXT_LIMITS.any.
 * INVALID_ARGUMENT names the field as the proto does (`items[1].topic`), never echoes it.
 */
export function checkRequestStrings(request: unknown): void {
  walk(request, "", false);
}

function walk(value: unknown, path: string, id: boolean): void {
  if (typeof value === "string") {
    if (hasControlCharacter(value, true))
      throw invalidInput(path, "must not contain NUL or other control characters");
    const max = id ? TEXT_LIMITS.id : TEXT_LIMITS.any;
    if (value.length > max) throw invalidInput(path, `must be at most ${max} characters`);
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, id);
    return;
  }
  if (value !== null && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      walk(v, path === "" ? snake(key) : `${path}.${snake(key)}`, isIdKey(key));
    }
  }
}
