import { countingProjection } from "./counting-projection.js";
import { marksProjection } from "./marks-projection.js";
import { notesProjection } from "./notes-projection.js";

/** What `otmetka-projections rebuild --module` loads in the CLI test. */
export const projections = [
  countingProjection("counting"),
  marksProjection("marks"),
  notesProjection("notes"),
];
