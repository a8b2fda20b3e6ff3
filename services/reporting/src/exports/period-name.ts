/** One grade level's term system as replicated: curriculum's kind ("" if none) and its number of terms. */
export interface TermSystem {
  readonly kind: string;
  readonly terms: number;
}

const BY_KIND: Readonly<Record<string, string>> = {
  TERM_KIND_QUARTER: "четверть",
  TERM_KIND_TRIMESTER: "триместр",
  TERM_KIND_HALF_YEAR: "полугодие",
};
// Curriculum gives each kind this many terms (TERM_COUNT there): the fallback for an event
// without a kind.
const BY_COUNT: Readonly<Record<number, string>> = { 4: "четверть", 3: "триместр", 2: "полугодие" };

/**
 * The export's «Период»: «учебный год» for term 0, else the term by the school's term system
 * («1 четверть», «2 триместр», «1 полугодие»). Grade levels of one school may differ (5-9 on
 * quarters, 10-11 on half-years): `systems` are those having the term, and each noun is named
 * once («2 четверть / 2 полугодие»). A system reporting cannot name gives «N период».
 */
export function periodName(term: number, systems: readonly TermSystem[]): string {
  if (term === 0) return "учебный год";
  const nouns = new Set(
    [...systems]
      .sort((a, b) => b.terms - a.terms)
      .map((s) => BY_KIND[s.kind] ?? BY_COUNT[s.terms] ?? "период"),
  );
  if (nouns.size === 0) nouns.add("период");
  return [...nouns].map((noun) => `${term} ${noun}`).join(" / ");
}
