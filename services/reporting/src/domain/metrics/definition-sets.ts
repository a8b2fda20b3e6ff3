import { invalidInput } from "../errors.js";

/**
 * A definition set: the formulas of definitions.ts plus the weight table the weighted
 * figures use. Version 1 is the live one (weights as grades resolved them from the school's
 * work-type table when the mark was recorded); a changed weight table is a new version,
 * whose figures are recomputed from the journal facts beside version 1's and carry
 * `@v<N>` in their definition, so an old report stays reproducible under its version.
 */
export interface DefinitionSet {
  readonly version: number;
  /** Work type -> weight; a work type not listed keeps the weight recorded with the mark. */
  readonly weights: Readonly<Record<string, number>> | null;
  readonly note: string;
}

export const LIVE_DEFINITION_VERSION = 1;

const LIVE: DefinitionSet = {
  version: LIVE_DEFINITION_VERSION,
  weights: null,
  note: "weights as recorded with each mark",
};

export function checkDefinitionSets(sets: readonly DefinitionSet[]): readonly DefinitionSet[] {
  const seen = new Set<number>([LIVE_DEFINITION_VERSION]);
  sets.forEach((s, i) => {
    if (!Number.isInteger(s.version) || s.version < 2)
      throw invalidInput(
        `definitionSets[${i}].version`,
        `must be an integer ≥ 2, got ${s.version}`,
      );
    if (seen.has(s.version))
      throw invalidInput(`definitionSets[${i}].version`, `${s.version} is defined twice`);
    seen.add(s.version);
    for (const [workType, w] of Object.entries(s.weights ?? {}))
      if (!Number.isInteger(w) || w < 1)
        throw invalidInput(
          `definitionSets[${i}].weights.${workType}`,
          `must be a positive integer, got ${w}`,
        );
  });
  return sets;
}

/** The set of `version` (0 = the live one), or a typed error naming the known ones. */
export function definitionSet(sets: readonly DefinitionSet[], version: number): DefinitionSet {
  if (version === 0 || version === LIVE_DEFINITION_VERSION) return LIVE;
  const found = sets.find((s) => s.version === version);
  if (!found) {
    const known = [LIVE_DEFINITION_VERSION, ...sets.map((s) => s.version)].join(", ");
    throw invalidInput("definitionVersion", `unknown version ${version} (known: ${known})`);
  }
  return found;
}

/** Marks every `definition` (and `*Definition`) string of a result with the set's version. */
export function labelled<T>(value: T, version: number): T {
  if (version === LIVE_DEFINITION_VERSION) return value;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== "object") return v;
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) =>
        (k === "definition" || k.endsWith("Definition")) && typeof x === "string"
          ? [k, `${x}@v${version}`]
          : [k, walk(x)],
      ),
    );
  };
  return walk(value) as T;
}
