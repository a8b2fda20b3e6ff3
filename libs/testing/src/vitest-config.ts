import { fileURLToPath } from "node:url";
import { defineConfig, type ViteUserConfig } from "vitest/config";

const globalSetup = fileURLToPath(new URL("./global-setup.js", import.meta.url));

/**
 * The one vitest configuration of every package: tests beside the code, a JSON report that
 * the root `npm test` totals, and generous timeouts for tests against real servers.
 */
export function defineTestConfig(overrides: ViteUserConfig["test"] = {}): ViteUserConfig {
  return defineConfig({
    test: {
      include: ["src/**/*.test.ts", "*.test.ts", "**/*.test.ts"],
      exclude: ["**/node_modules/**", "**/dist/**"],
      globalSetup: [globalSetup],
      testTimeout: 60_000,
      hookTimeout: 120_000,
      reporters: ["default", "json"],
      outputFile: { json: "test-results/vitest.json" },
      server: { deps: { inline: ["kysely"] } },
      ...overrides,
    },
  });
}
