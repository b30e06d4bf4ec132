/**
 * Resource limits, checked up front with a clear error (exit 2) instead of a process
 * that dies of memory or never ends: scenario files (size, regular file, YAML aliases,
 * keys), machines (CPUs, pages per zone, pages per call), budgets and worker threads.
 *
 * The figures are generous for every scenario the threads describe (the catalog's
 * largest machine has 8 CPUs and a few hundred pages) and small enough that the worst
 * file within them runs in bounded memory.
 */

import { availableParallelism } from "node:os";
import { MAX_CALL_PAGES } from "@foliosim/scenarios";
import { UsageError } from "./errors.js";

export const LIMITS = {
  /** Bytes of one scenario file. */
  fileBytes: 1024 * 1024,
  /** YAML alias expansions in one file. */
  yamlAliases: 100,
  /** Nodes (keys and values) in one file. */
  yamlNodes: 50_000,
  /** CPUs of a scenario machine. */
  cpus: 64,
  /** Pages in one memory zone (256 MiB of 4 KiB pages). */
  zonePages: 65_536,
  /** Pages one call may map, allocate or migrate (the call schemas' limit; a page count is never an earlier result). */
  callPages: MAX_CALL_PAGES,
  /** Executions of one exploration or matrix cell. */
  executions: 10_000_000,
  /** Steps of one execution. */
  maxSteps: 10_000_000,
  /** Wall time of one exploration (ms): a day. */
  wallMs: 24 * 3600 * 1000,
  pctDepth: 64,
  preemptionBound: 1_000,
} as const;

/** `--workers n`: at most the available CPUs (each worker is a thread with its own heap). */
export function checkWorkers(workers: number | undefined): number | undefined {
  if (workers === undefined) return undefined;
  const cpus = availableParallelism();
  if (workers > cpus) throw new UsageError(`--workers ${workers}: at most the ${cpus} available CPU${cpus === 1 ? "" : "s"}`);
  return workers;
}
