import { readPersonalData } from "../authz/matrix.js";
import type { GatewayContext } from "../context.js";

const collator = new Intl.Collator("ru");

/**
 * A journal's (or a class group's) pupils as a paper journal lists them: by family name, given name and
 * patronymic (Russian collation), pupils without a name (erased) last. Reporting keeps
 * enrolment order: names are identity's. Sorted only when the caller may read every one of
 * these names (`via`: the claim the name fields get them under), since the order says
 * something about them; otherwise, and on any failure to read them (the name fields report
 * their own errors), reporting's order stands. The loaders are the name fields' own, so a
 * page that shows the names costs no extra call.
 */
export async function alphabeticalPupils(
  ctx: GatewayContext,
  ids: readonly string[],
  via: string,
): Promise<readonly string[]> {
  if (ids.length < 2) return ids;
  try {
    const people = await ctx.loaders.people.loadMany(ids);
    for (const p of people) {
      if (!p || p instanceof Error) return ids;
      await readPersonalData(ctx, p, via, "name");
    }
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
