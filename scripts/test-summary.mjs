// Totals every package's vitest JSON report into one plain closing line: "N passed, N failed".
// A package whose tests should have run but left no report counts as one failed test, so a
// suite that crashed before reporting can never look green.
import { existsSync, readFileSync } from "node:fs";
import { relative } from "node:path";
import { root, testedPackages } from "./workspaces.mjs";

let passed = 0;
let failed = 0;
let skipped = 0;
const lines = [];
const failures = [];
for (const { name, report } of testedPackages()) {
  if (!existsSync(report)) {
    failed += 1;
    lines.push(`  ${name}: no test report (the suite did not run or crashed)`);
    continue;
  }
  const r = JSON.parse(readFileSync(report, "utf8"));
  // A file that failed outside its tests (a hook, an import) may report its tests as
  // skipped and none as failed: count the file itself as one failure.
  let suiteFailures = 0;
  for (const file of r.testResults ?? []) {
    const where = relative(root, file.name);
    const failedTests = (file.assertionResults ?? []).filter((a) => a.status === "failed");
    for (const a of failedTests)
      failures.push(`  ${where} > ${a.fullName}: ${firstLine(a.failureMessages)}`);
    if (file.status === "failed" && failedTests.length === 0) {
      suiteFailures += 1;
      failures.push(`  ${where}: ${firstLine([file.message])}`);
    }
  }
  passed += r.numPassedTests;
  failed += r.numFailedTests + suiteFailures;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  lines.push(
    `  ${name}: ${r.numPassedTests} passed, ${r.numFailedTests + suiteFailures} failed` +
      (suiteFailures ? ` (${suiteFailures} test file(s) failed to load)` : ""),
  );
}
if (!process.argv.includes("--quiet"))
  console.log(["Test totals by package:", ...lines].join("\n"));
// CI keeps only the tail of the output: name each failed test there, with its first line.
if (failures.length) {
  const more = failures.length > 20 ? [`  … and ${failures.length - 20} more`] : [];
  console.log(["Failed:", ...failures.slice(0, 20), ...more].join("\n"));
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exitCode = failed > 0 ? 1 : 0;

/** The first line of a failure, short enough for a CI tail. */
function firstLine(messages) {
  const text = (messages ?? []).find(Boolean) ?? "(no message)";
  return text.split("\n")[0].slice(0, 300);
}
