import { gradesFactsProjection } from "./facts.js";

/** For `otmetka-projections rebuild grades_facts --module ./dist/projections/index.js`. */
export const projections = [gradesFactsProjection];
