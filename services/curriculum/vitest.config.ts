import { defineTestConfig } from "@otmetka/testing/vitest";

// One module graph for all files (isolate: false): importing it again for every file was
// a third of the run. The files share no module state a test reads (constants and the fake
// identity feed's event counter only), and each test file still has its own database and NATS prefix.
export default defineTestConfig({ isolate: false });
