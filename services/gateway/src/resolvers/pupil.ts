import { type Person, PersonKind } from "@otmetka/proto/identity/v1/identity_service";
import type { GatewayContext } from "../context.js";
import { gqlError } from "../http/errors.js";

/**
 * The pupil a diary (the query, its subscription) is asked for. Only pupils have diaries:
 * anyone else is BAD_USER_INPUT naming studentId (reporting would refuse them in its own
 * access terms, and a subscription would never fire). The field's policy has run first, so
 * a caller who may not read this person got FORBIDDEN and never learns their kind.
 */
export async function pupilOf(ctx: GatewayContext, studentId: string): Promise<Person> {
  const person = await ctx.loaders.people.load(studentId);
  if (!person) throw gqlError("NOT_FOUND", `studentId: no person ${studentId}`, "studentId");
  if (person.kind !== PersonKind.PERSON_KIND_STUDENT)
    throw gqlError(
      "BAD_USER_INPUT",
      `studentId: ${studentId} is not a pupil; diaries are kept for pupils only`,
      "studentId",
    );
  return person;
}
