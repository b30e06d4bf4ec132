/**
 * The `explore … --strategy dpor --queue <redis-url>` action: checks its options, runs
 * the split proof through the queue (then, if its budget cut it, the deepening fallback
 * in this process), and prints the document a single-process explore prints (progress on
 * stderr).
 */

import { applyFallback } from "@foliosim/explore";
import { redactUrl } from "@foliosim/queue";
import { fallbackHooks, fallbackNotice } from "./explore-session.js";
import type { Io } from "./cli.js";
import { parseSets, resolveScenario, targetFor } from "./catalog.js";
import { exploreOnQueue, queueProgressLine } from "./commands/queue.js";
import { defaultKernel } from "./commands/run.js";
import { UsageError } from "./errors.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { writeFileAtomic } from "./fs-atomic.js";
import { parseKernelSpec } from "./kernel-spec.js";
import { cellOptions, describeBudget, parseIntOption, strategyLabel, type StrategyChoice } from "./options.js";
import { renderExplore } from "./render/text.js";
import { resultRow, SCHEMA_VERSION, type ResultsDocument } from "./report.js";
import { versions } from "./version.js";

export async function queueExplore(scenario: string, o: Record<string, string & string[]>, choice: StrategyChoice, asJson: boolean, io: Io): Promise<ExitCode> {
  if (o.queue === undefined) throw new UsageError("--split-after needs --queue <redis-url>");
  if (choice.strategy !== "dpor") throw new UsageError(`explore --queue splits DPOR proofs (--strategy dpor); for ${choice.strategy} sweeps use compare --queue`);
  if (choice.wallMs !== undefined) throw new UsageError("explore --queue takes an execution budget (--budget N), not wall time: sub-jobs must not depend on the machine that runs them");
  const splitAfter = parseIntOption("--split-after", o.splitAfter, 1);
  const entry = resolveScenario(scenario);
  const kernel = parseKernelSpec(o.kernel ?? defaultKernel(entry.kernels), o.override ?? []);
  const target = targetFor(entry.scenario, kernel, parseSets(o.set ?? []));
  const label = strategyLabel(choice);
  const budget = describeBudget(choice);
  io.stderr(`exploring ${scenario} (${label}) through the queue at ${redactUrl(o.queue)}: ${budget}\n`);
  const controller = new AbortController();
  const onSigint = (): void => controller.abort();
  process.once("SIGINT", onSigint);
  try {
    const { fallback, ...options } = cellOptions(choice);
    const split = await exploreOnQueue(target, scenario, options, { url: o.queue, splitAfter, signal: controller.signal, onProgress: (p) => io.stderr(`${queueProgressLine(p, "sub-jobs")}\n`) });
    // The deepening fallback is one sequential run: here, after the split proof, when that proof was cut.
    const result = fallback ? applyFallback(target, options, fallback, split, fallbackHooks((start) => io.stderr(fallbackNotice(start)))) : split;
    // The same document, versions included, as the single-process explore prints.
    const document: ResultsDocument = { schemaVersion: SCHEMA_VERSION, ...versions(), results: [resultRow(result, label)], budget };
    if (o.out) writeFileAtomic(o.out, JSON.stringify(document, null, 2) + "\n");
    io.stdout(asJson ? JSON.stringify(document, null, 2) + "\n" : renderExplore(document));
    return result.verdict === "fails" ? EXIT.failed : EXIT.ok;
  } catch (error) {
    if (controller.signal.aborted) {
      io.stderr("interrupted: the sub-jobs stay queued; run the same command again to collect them\n");
      return EXIT.interrupted;
    }
    throw error;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
