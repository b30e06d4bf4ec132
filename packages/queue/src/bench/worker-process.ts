/**
 * A queue worker process for the benchmark (built to dist-dev/bench-worker.js): what
 * `foliosim worker` runs, on the explorer's bench loader. Options come as JSON in argv[2].
 */

import { startQueueWorker, type QueueWorkerOptions } from "../index.js";

const options = JSON.parse(process.argv[2]) as QueueWorkerOptions;
const worker = await startQueueWorker(options);
process.stdout.write(`ready ${worker.name}\n`);
process.on("SIGTERM", () => {
  void worker.close().then(() => process.exit(0));
});
