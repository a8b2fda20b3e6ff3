import { defineTestConfig } from "@otmetka/testing/vitest";

// Two workers even on two cores: most of an integration file's time is spent waiting on
// PostgreSQL, NATS or a child process, which a second worker overlaps.
// One module graph per worker for all its files (isolate: false): importing it again for
// every file was most of the workers' time. The files share no module state a test reads
// (constants; a lazily made dummy password hash), and each test file still has its own
// database and NATS prefix.
export default defineTestConfig({ maxWorkers: 2, isolate: false });
