import { identityFactsProjection } from "./identity-facts.js";
import { lessonsProjection } from "./lessons.js";

/** For `otmetka-projections rebuild <name> --module ./dist/projections/index.js`. */
export const projections = [identityFactsProjection, lessonsProjection];
