import { defineTestConfig } from "@otmetka/testing/vitest";

// One module graph for all files (isolate: false): importing it again for every file was
// a seventh of the run. The files share no module state a test reads (constants; the
// fixture's mark counter only makes ids unique; each harness numbers its own positions),
// and each test file still has its own database and NATS prefix.
export default defineTestConfig({ isolate: false });
