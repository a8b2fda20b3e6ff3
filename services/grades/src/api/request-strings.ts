import { requestStringsChecker } from "@otmetka/service-kit";

/*
 * Every string of a request (commands and queries), checked before anything reads or writes with it (the
 * mechanism is service-kit's): NUL and other control characters are INVALID_ARGUMENT naming
 * the field; ids (UUIDs or short subject codes) and command ids at most 200 characters.
 */
export const checkRequestStrings = requestStringsChecker({
  /** Free texts about a pupil or a term, where line breaks and tabs belong. */
  multiline: ["comment", "reason", "note"],
  maxId: 200,
});
