/** Where a class group or a school sits: its school and municipality. */
export interface Placement {
  schoolId: string;
  municipalityId: string;
}

/**
 * Placements the commands' early scope check has looked up, kept for the process: identity
 * never moves a class group to another school or a school to another municipality, so an
 * answer cannot go stale (unknown ids are not kept: they may be registered a moment later).
 * It saves the identity call of every command after the first for its class group or school.
 * The service checks the scope again on its side.
 */
export class Placements {
  private readonly known = new Map<string, Placement>();

  constructor(private readonly max = 100_000) {}

  get(key: string): Placement | undefined {
    return this.known.get(key);
  }

  set(key: string, p: Placement): void {
    if (this.known.size >= this.max) this.known.clear();
    this.known.set(key, { schoolId: p.schoolId, municipalityId: p.municipalityId });
  }
}
