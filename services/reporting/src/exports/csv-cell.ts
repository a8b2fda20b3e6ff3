/*
 * CSV injection (OWASP): spreadsheet programs read a text cell beginning with =, +, -, @,
 * a tab or a carriage return as a formula. Such a cell gets a leading apostrophe, which
 * makes it text. Figures are numbers and stay as they are (a negative figure is not text).
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell as the CSV writer gets it: text neutralized, anything else untouched. */
export const csvCell = (value: unknown): unknown =>
  typeof value === "string" && FORMULA_START.test(value) ? `'${value}` : value;
