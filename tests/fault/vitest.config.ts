import { defineTestConfig } from "@otmetka/testing/vitest";

// One platform for the whole suite; the faults run one after another against it.
export default defineTestConfig({ include: ["src/**/*.test.ts"], testTimeout: 400_000 });
