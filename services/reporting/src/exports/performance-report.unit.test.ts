import { describe, expect, it } from "vitest";
import { emptyPerformance, performanceFigures } from "../domain/metrics/performance.js";
import type { Dashboard } from "../queries/dashboards.js";
import { reportCells, reportColumns } from "./performance-report.js";

describe("the statutory report's cells", () => {
  it("round half up on the figures' integers: an average of 169 / 40 is 4.23, not 4.22", () => {
    // 40 marks, nine 5s and 31 4s (weights 1): Σ = 169, 4.225, whose double is 4.22499….
    const c = emptyPerformance();
    c.marks = [0, 0, 0, 0, 31, 9];
    c.sumMarks = 169;
    c.sumWeighted = 169;
    c.sumWeights = 40;
    // 16 pupils in N, one 5: quality 1/16 = 6.25 % -> 6.3; СОУ (100 + 15·36) / 16 = 40.
    c.onRoll = 16;
    c.n = [0, 0, 0, 15, 0, 1];
    const performance = performanceFigures(c, "PERIOD_MARKS");
    const dashboard = {
      performance,
      quality: performance.qualityPerPupil,
      allSubjects: null,
    } as unknown as Dashboard;
    const cells = reportCells({ unit: "MATH", name: "Математика", dashboard }, "Итого");
    const at = (column: string) => cells[reportColumns("SCHOOL").indexOf(column)];
    expect(at("Средний балл")).toBe(4.23);
    expect(at("Средневзвешенный балл")).toBe(4.23);
    expect(at("Качество знаний, %")).toBe(6.3);
    expect(at("Успеваемость, %")).toBe(100);
    expect(at("СОУ, %")).toBe(40);
  });
});
