import type { Person } from "@otmetka/proto/identity/v1/identity_service";
import { readPersonalData } from "../authz/matrix.js";
import type { GatewayContext } from "../context.js";

const collator = new Intl.Collator("ru");

/**
 * A journal's or a class group's pupils as a paper journal lists them: by family name, given
 * name and patronymic (Russian collation), pupils without a name (erased) last; reporting and
 * identity give them in enrolment or id order. Sorted only when the caller may read every one
 * of these names (`via`: the claim the name fields get them under), since the order says
 * something about them; otherwise, and on any failure to read them (the name fields report
 * their own errors), the given order stands. The loaders are the name fields' own, so a page
 * that shows the names costs no extra call.
 */
export async function alphabeticalPupils(
  ctx: GatewayContext,
  ids: readonly string[],
  via: string,
): Promise<readonly string[]> {
  if (ids.length < 2) return ids;
  try {
    const people = await ctx.loaders.people.loadMany(ids);
    if (people.some((p) => !p || p instanceof Error)) return ids;
    await Promise.all((people as Person[]).map((p) => readPersonalData(ctx, p, via, "name")));
    const data = await ctx.loaders.personalData.loadMany(ids);
    const names = data.map((p) =>
      p && !(p instanceof Error) && !p.erased && p.personalData ? p.personalData : undefined,
    );
    return ids
      .map((id, i) => ({ id, i, name: names[i] }))
      .sort((a, b) => {
        if (!a.name || !b.name) return (a.name ? 0 : 1) - (b.name ? 0 : 1) || a.i - b.i;
        return (
          collator.compare(a.name.familyName, b.name.familyName) ||
          collator.compare(a.name.givenName, b.name.givenName) ||
          collator.compare(a.name.patronymic, b.name.patronymic) ||
          a.i - b.i
        );
      })
      .map((x) => x.id);
  } catch {
    return ids;
  }
}
