import { defineTestConfig } from "@otmetka/testing/vitest";

// One module graph for all files (isolate: false): importing it again for every file was
// a third of the run. The files share no module state a test reads (constants; the fake feed
// numbers versions per stream id, which the consumers do not check; each test file still has
// its own database and NATS prefix; the one spy is on a file's own harness).
export default defineTestConfig({ isolate: false });
