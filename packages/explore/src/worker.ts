/**
 * The worker-pool entry (built to dist/worker.js): piscina calls the default export
 * with a `CellTask` and sends back its `CellResult`.
 */

export { runCell as default } from "./cell.js";
