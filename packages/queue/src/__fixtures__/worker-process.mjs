// A queue worker process for the tests (what `foliosim worker` runs, minus the app):
// options come as JSON in argv[2]; log lines go to stderr; SIGTERM closes gracefully.
import { startQueueWorker } from "../../dist/index.js";

const options = JSON.parse(process.argv[2]);
const worker = await startQueueWorker({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(`ready ${worker.name}\n`);
let signals = 0;
process.on("SIGTERM", () => {
  signals++;
  void worker.close(signals > 1).then(() => process.exit(0));
});
void worker.stopped.then((stop) => {
  if (stop.reason === "model-mismatch") process.exit(2);
});
