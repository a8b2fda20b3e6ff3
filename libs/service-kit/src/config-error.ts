/** One environment variable that failed validation, and the rule it broke. */
export interface ConfigIssue {
  variable: string;
  rule: string;
}

/**
 * Thrown by `loadConfig` when one or more variables are bad or missing. It lists all of them at
 * once (fixing them one start-up at a time is tedious), and `runService` prints it without a
 * stack trace because the stack says nothing useful to an operator.
 */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.variable}: ${i.rule}`);
    const noun = issues.length === 1 ? "variable" : "variables";
    super(`Invalid configuration (${issues.length} ${noun}):\n${lines.join("\n")}`);
    this.issues = issues;
  }

  /** Names of the offending variables, in schema order. */
  get variables(): string[] {
    return this.issues.map((i) => i.variable);
  }
}
