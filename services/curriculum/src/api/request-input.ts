import { requestStringsChecker } from "@otmetka/service-kit";
import { TEXT_LIMITS } from "../domain/text.js";

/**
 * Every string of a request, checked before anything reads or writes with it (the mechanism
 * is service-kit's): no NUL or other control characters, tabs and line breaks only in homework
 * and a reason and around a text its command trims (an id with a line break reached the events
 * as given); ids at most TEXT_LIMITS.id characters, anything else at most TEXT_LIMITS.any.
 */
export const checkRequestStrings = requestStringsChecker({
  multiline: ["homework", "reason"],
  /** Ids, and person ids named by who acted (`conducted_by`, `approved_by`). */
  idKey: /(Id|Ids|By)$/,
  maxId: TEXT_LIMITS.id,
  maxText: TEXT_LIMITS.any,
  trimTexts: true,
});
