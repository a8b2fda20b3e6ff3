import { defineTestConfig } from "@otmetka/testing/vitest";

export default defineTestConfig({ include: ["tests/**/*.test.ts"] });
