import { defineTestConfig } from "@otmetka/testing/vitest";

export default defineTestConfig({ include: ["conventions/**/*.test.ts", "e2e/**/*.test.ts"] });
