/**
 * The command line: argument parsing (commander) and the mode choice — the TUI when
 * stdin and stdout are terminals, CI is unset and no --json was asked for and no
 * command was given; otherwise text reports, or one JSON document with --json.
 *
 * Every command returns a typed report; this module only chooses the view, the exit
 * code (EXIT) and where output goes (documents on stdout, progress and logs on stderr).
 */

import { Command, CommanderError, Option } from "commander";
import { parseShard } from "@foliosim/explore";
import { listCommand } from "./commands/list.js";
import { runCommand } from "./commands/run.js";
import { startExplore } from "./commands/explore.js";
import { compareCommand, InterruptedCompare, type CompareOutput } from "./commands/compare.js";
import { mergeCommand } from "./commands/merge.js";
import { replayCommand } from "./commands/replay.js";
import { validateCommand } from "./commands/validate.js";

import { describeError, isInputError, UsageError } from "./errors.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { StoppedError } from "./explore-session.js";
import { writeFileAtomic } from "./fs-atomic.js";
import { MAIN_JOB_EXECUTIONS, MAIN_JOB_SHRINK, parseBudget, parseIntOption, parsePctPoints, parseStrategy, type StrategyChoice } from "./options.js";
import { renderExplore, renderList, renderMatrix, renderRun, renderValidate, progressBar } from "./render/text.js";
import { writeFtrace } from "./render/ftrace.js";
import { loadScenarioFile } from "./scenario-files.js";
import { writeMermaid } from "./render/mermaid.js";
import { writePerfetto } from "./render/perfetto.js";
import type { TraceDocument } from "./render/trace-model.js";
import { SCHEMA_VERSION, type ResultsDocument } from "./report.js";
import { METRIC_NAMES } from "@foliosim/scenarios";
import { matrixJson } from "@foliosim/explore";

export interface Io {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: NodeJS.ProcessEnv;
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
}

export const TRACE_FORMATS = ["ftrace", "perfetto", "mermaid"] as const;
export type TraceFormatName = (typeof TRACE_FORMATS)[number];

export function writeTrace(doc: TraceDocument, format: TraceFormatName): string {
  switch (format) {
    case "ftrace":
      return writeFtrace(doc);
    case "perfetto":
      return writePerfetto(doc);
    case "mermaid":
      return writeMermaid(doc);
  }
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Is this run interactive enough for the TUI? (conventions §2.3) */
export function wantsTui(io: Io, json: boolean): boolean {
  return io.stdinIsTTY && io.stdoutIsTTY && !io.env.CI && !json;
}

/** Interrupt handling: the first Ctrl-C asks the command to stop and write its partial report. */
function onInterrupt(handler: () => void): () => void {
  const listener = (): void => handler();
  process.once("SIGINT", listener);
  return () => process.off("SIGINT", listener);
}

function strategyChoice(o: Record<string, string | boolean | undefined>, allowWall: boolean): StrategyChoice {
  const budget = parseBudget(o.budget as string | undefined, allowWall);
  const choice: StrategyChoice = { strategy: parseStrategy(o.strategy as string | undefined) };
  const depth = parseIntOption("--depth", o.depth as string | undefined, 1);
  const seed = parseIntOption("--seed", o.seed as string | undefined, 0);
  if (depth !== undefined) choice.depth = depth;
  if (seed !== undefined) choice.seed = seed;
  const points = parsePctPoints(o.pctPoints as string | undefined);
  if (points !== undefined) choice.pctPoints = points;
  const bound = parseIntOption("--preemption-bound", o.preemptionBound as string | undefined, 0);
  if (bound !== undefined) choice.preemptionBound = bound;
  if (budget.executions !== undefined) choice.executions = budget.executions;
  if (budget.wallMs !== undefined) choice.wallMs = budget.wallMs;
  if (o.stopAtFirst) choice.stopAtFirst = true;
  const maxSteps = parseIntOption("--max-steps", o.maxSteps as string | undefined, 1);
  if (maxSteps !== undefined) choice.maxSteps = maxSteps;
  return choice;
}

function checkTraceFormat(format: string | undefined): TraceFormatName {
  const f = (format ?? "ftrace") as TraceFormatName;
  if (!TRACE_FORMATS.includes(f)) throw new UsageError(`--trace expects one of ${TRACE_FORMATS.join(", ")}, found "${format}"`);
  return f;
}

function checkMetric(metric: string | undefined): string {
  const m = metric ?? "virtual_ns";
  if (!(METRIC_NAMES as readonly string[]).includes(m)) throw new UsageError(`--metric expects one of ${METRIC_NAMES.join(", ")}, found "${m}"`);
  return m;
}

export async function main(argvIn: readonly string[], io: Io): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  // `--json=stream`: NDJSON events for explore (start, progress, counterexample, end); one document elsewhere.
  const stream = argvIn.includes("--json=stream");
  const argv = argvIn.map((a) => (a === "--json=stream" ? "--json" : a));
  const ndjson = (event: Record<string, unknown>): void => io.stdout(JSON.stringify(event) + "\n");
  const program = new Command();
  program
    .name("foliosim")
    .description("Run, explore and compare Linux memory-management races on a simulated machine.")
    .option("--json", "print one JSON document (schemaVersion 1) on stdout (--json=stream: NDJSON events for explore)")
    .showHelpAfterError("(run foliosim --help for the commands)")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  const jsonOf = (cmd: Command): boolean => Boolean(cmd.optsWithGlobals().json);

  program
    .command("list")
    .description("scenarios (id, title, source, promise) and kernels (id, base, variants, source)")
    .option("--calls", "also list the calls scenario scripts may use")
    .action((o: { calls?: boolean }, cmd: Command) => {
      const report = listCommand({ calls: o.calls });
      io.stdout(jsonOf(cmd) ? json(report) : renderList(report));
    });

  program
    .command("run")
    .description("one execution: call results, the promise's verdict, metrics and the trace")
    .argument("<scenario>", "catalog id or a .yaml/.json file")
    .option("--kernel <id>", "kernel preset, optionally with overrides (linux-6.11+collect=will-v1)")
    .option("--override <name=value>", "a kernel variant override (repeatable)", collect)
    .option("--set <key=value>", "a scenario parameter (repeatable)", collect)
    .option("--seed <n>", "seed of the random schedule (default 1)")
    .option("--schedule <token>", "replay this schedule token instead")
    .addOption(new Option("--trace <format>", "trace format").choices([...TRACE_FORMATS, "none"]).default("ftrace"))
    .option("--out <file>", "write the trace to a file instead of stdout")
    .action((scenario: string, o: Record<string, string & string[]>, cmd: Command) => {
      const seed = parseIntOption("--seed", o.seed, 0);
      if (seed !== undefined && o.schedule) throw new UsageError("give --seed or --schedule, not both");
      const out = runCommand({ scenario, kernel: o.kernel, set: o.set, override: o.override, seed, schedule: o.schedule });
      emitRun(out.report, out.trace, o.trace, o.out, jsonOf(cmd), "run", io);
      exitCode = out.report.verdict === "fails" ? EXIT.failed : EXIT.ok;
    });

  program
    .command("explore")
    .description("one exploration, with a progress bar on stderr")
    .argument("<scenario>", "catalog id or a .yaml/.json file")
    .option("--kernel <id>", "kernel preset, optionally with overrides")
    .option("--override <name=value>", "a kernel variant override (repeatable)", collect)
    .option("--set <key=value>", "a scenario parameter (repeatable)", collect)
    .option("--strategy <name>", "pct | random | dpor", "pct")
    .option("--budget <n|time>", "executions (500) or wall time (30s)")
    .option("--depth <d>", "PCT depth (default 3)")
    .option("--pct-points <shared|all>", "PCT scheduling points: shared accesses (default) or every choice point")
    .option("--preemption-bound <n>", "DPOR: explore only schedules with at most n preemptions")
    .option("--seed <n>", "sampler seed (default 1)")
    .option("--stop-at-first", "stop at the first failure")
    .option("--max-steps <n>", "steps per execution before it counts as inconclusive (default 60000)")
    .option("--out <file>", "also write the JSON report to a file (atomically)")
    .option("--queue <redis-url>", "DPOR: split the proof into sub-jobs for foliosim worker processes on this Redis")
    .option("--split-after <n>", "with --queue: executions after which a sub-job hands its open branches out (default 2000)")
    .action(async (scenario: string, o: Record<string, string & string[]>, cmd: Command) => {
      const asJson = jsonOf(cmd);
      const choice = strategyChoice(o, true);
      if (o.queue !== undefined || o.splitAfter !== undefined) {
        const { queueExplore } = await import("./queue-cli.js"); // the queue client loads only when asked
        exitCode = await queueExplore(scenario, o, choice, asJson, io);
        return;
      }
      const bar = io.stderrIsTTY;
      let last = { executions: 0, failures: 0 };
      const session = startExplore(
        { ...choice, scenario, kernel: o.kernel, set: o.set, override: o.override },
        {
          progress: (p) => {
            last = p;
            if (stream) ndjson({ event: "progress", ...p });
            const total = choice.executions ?? (choice.strategy === "dpor" ? 2000 : 200);
            const fraction = p.progress ?? p.executions / total;
            const rateText = p.elapsedMs > 0 ? ` ${Math.round((p.executions / p.elapsedMs) * 1000)} exec/s` : "";
            const line = `${progressBar(fraction)} ${p.executions} executions, ${p.failures} failing${rateText}${p.estimatedRemaining !== undefined ? `, ~${p.estimatedRemaining} left` : ""}`;
            io.stderr(bar ? `\r${line}` : `${line}\n`);
          },
          failure: (f) => {
            if (stream) ndjson({ event: "counterexample", ...f });
            io.stderr(`${bar ? "\r\x1b[K" : ""}found ${f.kind} at execution ${f.execution}: ${f.message}\n`);
          },
        },
      );
      io.stderr(`exploring ${scenario} (${session.label}): ${session.budget}\n`);
      if (stream) ndjson({ event: "start", schemaVersion: SCHEMA_VERSION, scenario, kernel: o.kernel ?? null, strategy: session.label, budget: session.budget });
      const off = onInterrupt(() => session.running.stop());
      try {
        const result = await session.running.done;
        if (bar) io.stderr("\n");
        const { document } = session.finish(result);
        if (o.out) writeFileAtomic(o.out, json(document));
        if (stream) ndjson({ event: "end", ...document });
        else io.stdout(asJson ? json(document) : renderExplore(document));
        exitCode = document.results[0].verdict === "fails" ? EXIT.failed : EXIT.ok;
      } catch (error) {
        if (!(error instanceof StoppedError)) throw error;
        if (bar) io.stderr("\n");
        const partial = { schemaVersion: SCHEMA_VERSION, interrupted: true, scenario, strategy: session.label, executions: last.executions, failing: last.failures, results: [] };
        if (o.out) writeFileAtomic(o.out, json(partial));
        if (stream) ndjson({ event: "end", ...partial });
        else io.stdout(asJson ? json(partial) : `interrupted after ${last.executions} executions, ${last.failures} failing (a partial report)\n`);
        exitCode = EXIT.interrupted;
      } finally {
        off();
      }
    });

  program
    .command("compare")
    .description("the verdict matrix: scenarios × kernels (default: the headline kernels)")
    .argument("[scenario...]", "catalog ids or .yaml/.json files")
    .option("--all", "every scenario of the built-in catalog")
    .option("--kernel <id>", "a kernel (repeatable; default the headline kernels)", collect)
    .option("--strategy <name>", "pct | random | dpor", "pct")
    .option("--budget <n>", `executions per cell (default ${MAIN_JOB_EXECUTIONS}; 2000 for dpor)`)
    .option("--max-steps <n>", "steps per execution before it counts as inconclusive (default 60000)")
    .option("--depth <d>", "PCT depth (default 3)")
    .option("--pct-points <shared|all>", "PCT scheduling points: shared accesses (default) or every choice point")
    .option("--preemption-bound <n>", "DPOR: explore only schedules with at most n preemptions")
    .option("--seed <n>", "sampler seed (default 1)")
    .option("--metric <name>", `cost metric shown per cell (${METRIC_NAMES.join(", ")})`, "virtual_ns")
    .option("--shard <i/N>", "run only shard i of N (write it with --out, join with merge)")
    .option("--out <file>", "write the matrix document (shard or whole) to a file, atomically")
    .option("--workers <n>", "worker threads (default: CPUs - 1; 0 runs in this thread)")
    .option("--queue <redis-url>", "run the cells on foliosim worker processes through this Redis (same document)")
    .action(async (scenarios: string[], o: Record<string, string & string[] & boolean>, cmd: Command) => {
      const asJson = jsonOf(cmd);
      const metric = checkMetric(o.metric);
      const shard = o.shard ? parseShardOption(o.shard) : undefined;
      if (shard && !o.out) throw new UsageError("--shard needs --out FILE (shards are joined with foliosim merge)");
      const workers = parseIntOption("--workers", o.workers, 0);
      const controller = new AbortController();
      const off = onInterrupt(() => controller.abort());
      const started = performance.now();
      try {
        const choice = strategyChoice(o, false);
        if (choice.executions === undefined && choice.strategy !== "dpor") choice.executions = MAIN_JOB_EXECUTIONS;
        // A matrix shows verdicts; `replay` shrinks a counterexample fully on demand.
        if (choice.shrink === undefined) choice.shrink = MAIN_JOB_SHRINK;
        const output = await compareCommand({
          ...choice,
          scenarios,
          all: o.all,
          kernels: o.kernel,
          shard,
          workers,
          signal: controller.signal,
          onRow: (done, total) => io.stderr(`${progressBar(done.length / total)} ${done.length}/${total} cells\n`),
          queue: o.queue as string | undefined,
          onQueueProgress: (line) => io.stderr(`${line}\n`),
        });
        if (o.out) writeFileAtomic(o.out, matrixJson(output.matrix) + "\n");
        emitCompare(output, metric, asJson, io, `foliosim compare: ${output.scenarios.length} scenario(s) × ${output.kernels.length} kernel(s)${shard ? `, shard ${shard.index}/${shard.count}` : ""} — ${((performance.now() - started) / 1000).toFixed(1)} s`);
        exitCode = output.document.results.some((r) => r.verdict === "fails") ? EXIT.failed : EXIT.ok;
      } catch (error) {
        if (!(error instanceof InterruptedCompare)) {
          if (controller.signal.aborted) {
            io.stderr("interrupted\n");
            exitCode = EXIT.interrupted;
            return;
          }
          throw error;
        }
        if (o.out) writeFileAtomic(o.out, json(error.partial.document));
        emitCompare(error.partial, metric, asJson, io, "foliosim compare (interrupted)");
        exitCode = EXIT.interrupted;
      } finally {
        off();
      }
    });

  program
    .command("merge")
    .description("join shard files into the matrix an unsharded compare gives")
    .argument("<file...>", "shard documents written by compare --shard i/N --out FILE")
    .option("--metric <name>", "cost metric shown per cell", "virtual_ns")
    .option("--out <file>", "write the merged matrix document to a file")
    .action((files: string[], o: { metric?: string; out?: string }, cmd: Command) => {
      const output = mergeCommand(files);
      if (o.out) writeFileAtomic(o.out, matrixJson(output.matrix) + "\n");
      emitCompare(output, checkMetric(o.metric), jsonOf(cmd), io, `foliosim merge: ${files.length} shard(s)`);
      exitCode = output.document.results.some((r) => r.verdict === "fails") ? EXIT.failed : EXIT.ok;
    });

  program
    .command("replay")
    .description("the exact failing execution of a token, shrunk by default")
    .argument("<token>", "a schedule token (fs1.…)")
    .option("--original", "replay the token as given, not its shrunk schedule")
    .addOption(new Option("--trace <format>", "trace format").choices([...TRACE_FORMATS, "none"]).default("ftrace"))
    .option("--out <file>", "write the trace to a file instead of stdout")
    .option("--scenario <id|file>", "where the token came from, if not the catalog")
    .option("--kernel <id>", "the kernel it was recorded on, if not a preset")
    .option("--set <key=value>", "the parameters it was recorded with", collect)
    .action((token: string, o: Record<string, string & string[] & boolean>, cmd: Command) => {
      const out = replayCommand({ token, original: o.original, scenario: o.scenario, kernel: o.kernel, set: o.set });
      if (out.shrunk) io.stderr(`shrunk ${out.original} to ${out.report.schedule} (--original replays the token as given)\n`);
      emitRun(out.report, out.trace, o.trace, o.out, jsonOf(cmd), "replay", io);
      exitCode = out.report.verdict === "fails" ? EXIT.failed : EXIT.ok;
    });

  program
    .command("validate")
    .description("check user scenario files (YAML or JSON) without running them")
    .argument("<file...>", "scenario files")
    .action((files: string[], _o: unknown, cmd: Command) => {
      const report = validateCommand(files);
      io.stdout(jsonOf(cmd) ? json(report) : renderValidate(report));
      exitCode = report.files.every((f) => f.valid) ? EXIT.ok : EXIT.usage;
    });

  program
    .command("worker")
    .description("take compare cells and DPOR sub-jobs from a Redis queue until stopped (SIGTERM finishes the running jobs)")
    .requiredOption("--queue <redis-url>", "the Redis the sweeps are enqueued on (redis://host:port)")
    .option("--concurrency <n>", "jobs at once, each in its own worker thread (default 1)")
    .option("--lock-duration <ms>", "lease of a running job; a dead worker's job is taken over after it (default 30000)")
    .option("--stalled-interval <ms>", "how often leases are checked (default 30000)")
    .action(async (o: { queue: string; concurrency?: string; lockDuration?: string; stalledInterval?: string }) => {
      const { workerCommand } = await import("./commands/worker.js");
      exitCode = await workerCommand({
        queue: o.queue,
        concurrency: parseIntOption("--concurrency", o.concurrency, 1),
        lockDurationMs: parseIntOption("--lock-duration", o.lockDuration, 200),
        stalledIntervalMs: parseIntOption("--stalled-interval", o.stalledInterval, 100),
        log: (line) => io.stderr(`${line}\n`),
      });
    });

  program
    .command("tui")
    .description("the interactive app (the default in a terminal); FILEs are user scenario files listed beside the catalog")
    .argument("[file...]", "user scenario files (YAML or JSON)")
    .action(async (files: string[]) => {
      if (!io.stdinIsTTY || !io.stdoutIsTTY) throw new UsageError("the TUI needs a terminal on stdin and stdout; use the commands (foliosim --help) instead");
      for (const file of files) loadScenarioFile(file); // a bad file is an input error before the screen opens
      const { startTui } = await import("./tui/start.js");
      exitCode = await startTui(files);
    });

  try {
    const args = argv.slice();
    const hasCommand = args.some((a) => !a.startsWith("-"));
    if (!hasCommand && !args.includes("--help") && !args.includes("-h")) {
      if (wantsTui(io, args.includes("--json"))) args.push("tui");
      else {
        io.stderr(program.helpInformation());
        return EXIT.usage;
      }
    }
    await program.parseAsync(args, { from: "user" });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return EXIT.ok;
      return EXIT.usage; // commander has printed the message
    }
    if (isInputError(error)) {
      io.stderr(`foliosim: ${describeError(error)}\n`);
      return EXIT.usage;
    }
    io.stderr(`foliosim: internal error: ${describeError(error)}\n(set FOLIOSIM_DEBUG=1 for the stack)\n`);
    return EXIT.failed;
  }
}

function parseShardOption(text: string): { index: number; count: number } {
  try {
    return parseShard(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function emitRun(report: import("./commands/run.js").RunReport, trace: TraceDocument, format: string, out: string | undefined, asJson: boolean, title: string, io: Io): void {
  const f = format === "none" ? undefined : checkTraceFormat(format);
  const text = f ? writeTrace(trace, f) : "";
  if (out && f) writeFileAtomic(out, text);
  if (asJson) {
    io.stdout(json({ ...report, ...(f && !out ? { trace: { format: f, text } } : {}) }));
    return;
  }
  io.stdout(renderRun(report, title));
  if (f && !out) io.stdout(`\nTrace (${f})\n${text}${text.endsWith("\n") ? "" : "\n"}`);
  else if (f && out) io.stdout(`\nTrace (${f}) written to ${out}\n`);
}

function emitCompare(output: CompareOutput, metric: string, asJson: boolean, io: Io, title: string): void {
  if (asJson) io.stdout(json(output.document satisfies ResultsDocument));
  else io.stdout(renderMatrix(output.document, { metric, title }));
}
