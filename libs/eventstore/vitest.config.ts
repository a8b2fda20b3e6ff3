import { defineTestConfig } from "@otmetka/testing/vitest";

// One module graph for all files (isolate: false): importing it again for every file was
// a sixth of the run. The files share no module state a test reads (the event-id generator
// only keeps ids increasing), and each test file still has its own database.
export default defineTestConfig({ isolate: false });
