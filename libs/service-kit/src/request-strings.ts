import { hasControlCharacter } from "./control-characters.js";
import { DomainError } from "./domain-error.js";

/*
 * Every string of a decoded gRPC request, checked before a handler reads or writes with it:
 * NUL fails in PostgreSQL (INTERNAL instead of a typed error) and, once in an event, stalls
 * every projection that stores it; a line break or an oversized value in an id went into the
 * events as given. Which fields are free texts or ids is the service's business.
 */

/** What a service says about its requests' fields; keys are the decoded (camelCase) names. */
export interface RequestStringRules {
  /** Free texts where tabs and line breaks belong (a comment, a reason). */
  readonly multiline: Iterable<string>;
  /** Keys naming ids (a repeated field's elements share its key). Default: `…Id`, `…Ids`. */
  readonly idKey?: RegExp;
  /** Longest id; `commandId` is always one. */
  readonly maxId: number;
  /** Longest other string; unlimited when absent. */
  readonly maxText?: number;
  /**
   * White space around a text (never an id) is ignored by the control-character check: for
   * services whose commands trim their texts, so a trailing line break there is harmless.
   */
  readonly trimTexts?: boolean;
}

const DEFAULT_ID_KEY = /Ids?$/;

/** The proto's name of a decoded key: `classGroupId` -> `class_group_id`. */
const snake = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** INVALID_ARGUMENT naming the field as the proto does (`marks[1].comment`), never the value. */
const refused = (path: string, rule: string) =>
  new DomainError("invalid_argument", `${path}: ${rule}`, { field: path });

/**
 * A check of every string of a request by `rules`: throws the first refusal as a DomainError
 * (INVALID_ARGUMENT, `field` set to the path, the message naming the rule, not the value).
 */
export function requestStringsChecker(rules: RequestStringRules): (request: unknown) => void {
  const multiline = new Set(rules.multiline);
  const idKey = rules.idKey ?? DEFAULT_ID_KEY;

  const checkString = (value: string, path: string, key: string) => {
    const lines = multiline.has(key);
    const isId = key === "commandId" || idKey.test(key);
    if (hasControlCharacter(rules.trimTexts && !isId ? value.trim() : value, lines))
      throw refused(
        path,
        lines
          ? "must not contain control characters other than line breaks and tabs"
          : "must not contain control characters",
      );
    const max = isId ? rules.maxId : rules.maxText;
    if (max !== undefined && value.length > max)
      throw refused(path, `must be at most ${max} characters`);
  };

  const walk = (value: unknown, path: string, key: string): void => {
    if (typeof value === "string") {
      checkString(value, path, key);
      return;
    }
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, `${path}[${i}]`, key);
      return;
    }
    if (value !== null && typeof value === "object")
      for (const [k, v] of Object.entries(value))
        walk(v, path === "" ? snake(k) : `${path}.${snake(k)}`, k);
  };

  return (request) => walk(request, "", "");
}
