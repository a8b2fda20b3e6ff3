import { defineTestConfig } from "@otmetka/testing/vitest";

// Two workers even on two cores: most of an integration file's time is spent waiting on
// PostgreSQL, NATS or a child process, which a second worker overlaps.
export default defineTestConfig({ maxWorkers: 2 });
