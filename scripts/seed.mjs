// `npm run seed -- --municipalities N --schools N --classes N --pupils-per-class N --weeks N --seed S`:
// writes a deterministic demo region into the running platform (`npm start`) through its gRPC APIs.
import { loadSecrets, saveSecrets } from "./platform/secrets.mjs";
import { parseOptions } from "./seed/plan.mjs";
import { runSeed } from "./seed/run.mjs";

let options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (err) {
  console.error(err.message);
  process.exit(2);
}
try {
  await runSeed({ secrets: loadSecrets(), save: saveSecrets, options });
  process.exit(0);
} catch (err) {
  console.error(`seed failed: ${err.details ?? err.message}`);
  process.exit(1);
}
