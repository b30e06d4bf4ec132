/**
 * The command line: argument parsing (commander) and the mode choice — the TUI when
 * stdin and stdout are terminals, CI is unset and no --json was asked for and no
 * command was given; otherwise text reports, or one JSON document with --json.
 *
 * Every command returns a typed report; this module only chooses the view, the exit
 * code (EXIT) and where output goes (documents on stdout, progress and logs on stderr).
 */

import { evaluateCommand, renderEvaluate, renderEvaluateMarkdown } from "./commands/evaluate.js";
import { loadVariantModule, variantFilesOf } from "./variant-modules.js";
import { applyConfig, applyConfigSet, configScenarios, loadConfig, oneScenario, type Config } from "./config.js";
import { Command, CommanderError, Option } from "commander";
import { parseShard } from "@foliosim/explore";
import { listCommand } from "./commands/list.js";
import { runCommand } from "./commands/run.js";
import { startExplore } from "./commands/explore.js";
import { compareCommand, InterruptedCompare, type CompareOutput } from "./commands/compare.js";
import { exitForMatrix, exitForOutcome } from "./exit-codes.js";
import { mergeCommand } from "./commands/merge.js";
import { replayCommand } from "./commands/replay.js";
import { validateCommand } from "./commands/validate.js";
import { describeError, isInputError, UsageError } from "./errors.js";
import { resolveScenario, splitScenarioId } from "./catalog.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { fallbackNotice, StoppedError, type FoundFailure } from "./explore-session.js";
import { checkOutput, writeFileAtomic } from "./fs-atomic.js";
import { checkWorkers, LIMITS } from "./limits.js";
import { compareChoice, DEFAULT_MAX_STEPS, FALLBACK_NAMES, fallbackOf, MAIN_JOB_EXECUTIONS, parseBudget, parseIntOption, parsePctPoints, parseStrategy, type FallbackName, type StrategyChoice } from "./options.js";
import { renderExplore, renderFound, renderList, renderMatrix, renderMatrixMarkdown, renderRun, renderValidate, progressBar } from "./render/text.js";
import { escapeControl, shellWord } from "./render/escape.js";
export { shellWord } from "./render/escape.js";
import { versions, versionText } from "./version.js";
import { writeFtrace } from "./render/ftrace.js";
import { loadScenarioFile } from "./scenario-files.js";
import { scenarioErrorLine, scenarioErrorLines } from "./scenario-errors.js";
import { writeMermaid } from "./render/mermaid.js";
import { writePerfetto } from "./render/perfetto.js";
import type { TraceDocument } from "./render/trace-model.js";
import { SCHEMA_VERSION, type FoundCounterexample, type ResultsDocument } from "./report.js";
import { METRIC_NAMES, NEWEST_PRESET } from "@foliosim/scenarios";
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

/** Every JSON document carries the tool's and the model's versions, after its schemaVersion. */
export function stamp<T extends object>(value: T): T {
  const { schemaVersion, ...rest } = value as { schemaVersion?: number };
  return { ...(schemaVersion !== undefined ? { schemaVersion } : {}), ...versions(), ...rest } as T;
}

function json(value: object): string {
  return JSON.stringify(stamp(value), null, 2) + "\n";
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Is this run interactive enough for the TUI? (conventions §2.3) */
export function wantsTui(io: Io, json: boolean): boolean {
  return io.stdinIsTTY && io.stdoutIsTTY && !io.env.CI && !json;
}


const DEEPEN_HELP = "DPOR: explore every schedule with 0, then at most 1, 2, … preemptions; cut by the budget, claim the largest bound exhausted";

function strategyChoice(o: Record<string, string | boolean | undefined>, allowWall: boolean): StrategyChoice {
  const budget = parseBudget(o.budget as string | undefined, allowWall);
  const choice: StrategyChoice = { strategy: parseStrategy(o.strategy as string | undefined) };
  const depth = parseIntOption("--depth", o.depth as string | undefined, 1, LIMITS.pctDepth);
  const seed = parseIntOption("--seed", o.seed as string | undefined, 0);
  if (depth !== undefined) choice.depth = depth;
  if (seed !== undefined) choice.seed = seed;
  const points = parsePctPoints(o.pctPoints as string | undefined);
  if (points !== undefined) choice.pctPoints = points;
  const bound = parseIntOption("--preemption-bound", o.preemptionBound as string | undefined, 0, LIMITS.preemptionBound);
  if (bound !== undefined) choice.preemptionBound = bound;
  if (o.deepen === true) {
    if (choice.strategy !== "dpor") throw new UsageError(`--deepen deepens DPOR's preemption bound: use it with --strategy dpor, not ${choice.strategy}`);
    if (bound !== undefined) throw new UsageError("--deepen chooses the preemption bound itself: drop --preemption-bound");
    choice.deepen = true;
  }
  if (budget.executions !== undefined) choice.executions = budget.executions;
  if (budget.wallMs !== undefined) choice.wallMs = budget.wallMs;
  fallbackChoice(o, choice, allowWall);
  if (o.stopAtFirst) choice.stopAtFirst = true;
  const maxSteps = parseIntOption("--max-steps", o.maxSteps as string | undefined, 1, LIMITS.maxSteps);
  if (maxSteps !== undefined) choice.maxSteps = maxSteps;
  return choice;
}

const FALLBACK_HELP = "DPOR: a run its budget cuts without a failure is re-run deepening the preemption bound (deepen: the default for unbounded DPOR) or not (none)";
const FALLBACK_BUDGET_HELP = "the deepening re-run's budget (default: the same as --budget)";

/** `--fallback deepen|none` and `--fallback-budget`: checked against the strategy they re-run. */
function fallbackChoice(o: Record<string, string | boolean | undefined>, choice: StrategyChoice, allowWall: boolean): void {
  const given = o.fallback as string | undefined;
  if (given !== undefined) {
    if (!(FALLBACK_NAMES as readonly string[]).includes(given)) throw new UsageError(`--fallback expects one of ${FALLBACK_NAMES.join(", ")}, found "${given}"`);
    if (choice.strategy !== "dpor") throw new UsageError(`--fallback re-runs an incomplete DPOR run: use it with --strategy dpor, not ${choice.strategy}`);
    if (given === "deepen" && choice.deepen === true) throw new UsageError("--fallback deepen re-runs unbounded DPOR deepening the bound; --deepen already deepens: drop one of them");
    if (given === "deepen" && choice.preemptionBound !== undefined) throw new UsageError("--fallback deepen re-runs unbounded DPOR deepening the bound; --preemption-bound fixes the bound: drop one of them");
    choice.fallback = given as FallbackName;
  }
  const text = o.fallbackBudget as string | undefined;
  if (text === undefined) return;
  const budget = parseBudget(text, allowWall, "--fallback-budget");
  if (fallbackOf(choice) !== "deepen") {
    const why = choice.strategy !== "dpor" ? `--strategy ${choice.strategy}` : choice.deepen === true ? "--deepen" : choice.preemptionBound !== undefined ? "--preemption-bound" : "--fallback none";
    throw new UsageError(`--fallback-budget is the budget of the deepening re-run of unbounded DPOR (--strategy dpor, --fallback deepen); there is none with ${why}`);
  }
  if (budget.executions !== undefined) choice.fallbackExecutions = budget.executions;
  if (budget.wallMs !== undefined) choice.fallbackWallMs = budget.wallMs;
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

interface Context {
  io: Io;
  /** The --config file, loaded before the command's action (its variant modules too). */
  config?: Config;
  /** `--json=stream`: NDJSON events for explore. */
  stream: boolean;
  exit(code: ExitCode): void;
}

type Opts = Record<string, string & string[] & boolean>;

export async function main(argvIn: readonly string[], io: Io): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  // `--json=stream`: NDJSON events for explore (start, progress, counterexample, end); one document elsewhere.
  const stream = argvIn.includes("--json=stream");
  const argv = argvIn.map((a) => (a === "--json=stream" ? "--json" : a));
  const ctx: Context = { io, stream, exit: (code) => void (exitCode = code) };
  const program = new Command();
  program
    .name("foliosim")
    .description("Run, explore and compare Linux memory-management races on a simulated machine.")
    .version(versionText().trimEnd(), "-V, --version", "print the tool's and the model's versions")
    .option("--json", "print one JSON document (schemaVersion 1) on stdout (--json=stream: NDJSON events for explore)")
    .option("--variant <file>", "load a variant module (.ts/.js; code, run only because you name it); its id becomes a kernel option value (repeatable)", collect)
    .hook("preAction", (_program, command) => {
      for (const file of (command.optsWithGlobals().variant as string[] | undefined) ?? []) loadVariantModule(file);
      const config = command.opts().config as string | undefined;
      if (config !== undefined) ctx.config = loadConfig(config);
    })
    .showHelpAfterError("(run foliosim --help for the commands)")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  defineCommands(program, ctx);

  try {
    const args = argv.slice();
    const hasCommand = args.some((a) => !a.startsWith("-"));
    const informational = ["--help", "-h", "--version", "-V"].some((flag) => args.includes(flag));
    if (!hasCommand && !informational) {
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
      io.stderr(`foliosim: ${escapeControl(describeError(error))}\n`);
      return EXIT.usage;
    }
    io.stderr(`foliosim: internal error: ${escapeControl(describeError(error))}\n(a bug in foliosim; set FOLIOSIM_DEBUG=1 for the stack)\n`);
    return EXIT.internal;
  }
}

const jsonOf = (cmd: Command): boolean => Boolean(cmd.optsWithGlobals().json);

/** Whether the command line gave an option (not its default, not the config). */
const givenOf = (cmd: Command) => (option: string): boolean => cmd.getOptionValueSource(option) === "cli";

/** The parameters a scenario has (for the config's `set:`). */
const paramNames = (scenario: string): string[] => Object.keys(resolveScenario(scenario).scenario.params);

const CONFIG_HELP = "a YAML/JSON file naming variant modules, kernels, scenarios and budget defaults (the command line wins)";

/** Report scenario errors (the scenario misused the model) on stderr: exit 2. */
function scenarioError(io: Io, ...lines: string[]): ExitCode {
  for (const line of lines) io.stderr(line);
  return EXIT.usage;
}

function defineCommands(program: Command, ctx: Context): void {
  defineRunCommands(program, ctx);
  defineExploreCommands(program, ctx);
  defineEvaluateCommand(program, ctx);
  defineReplayCommands(program, ctx);
  defineServiceCommands(program, ctx);
}

/** List and run: one scenario, one execution. */
function defineRunCommands(program: Command, ctx: Context): void {
  const { io } = ctx;
  program
    .command("list")
    .description("scenarios (id, title, source, promise) and kernels (id, base, variants, source)")
    .option("--calls", "also list the calls scenario scripts may use")
    .action((o: { calls?: boolean }, cmd: Command) => {
      const report = listCommand({ calls: o.calls });
      io.stdout(jsonOf(cmd) ? json(report) : `${versionText().split("\n")[0]}\n${renderList(report)}`);
    });

  program
    .command("run")
    .description("one execution: call results, the promise's verdict, metrics and the trace")
    .argument("[scenario]", "catalog id or a .yaml/.json file (default: the --config file's scenario)")
    .option("--config <file>", CONFIG_HELP)
    .option("--kernel <id>", "kernel preset, optionally with overrides (linux-6.11+collect=will-v1)")
    .option("--override <name=value>", "a kernel variant override (repeatable)", collect)
    .option("--set <key=value>", "a scenario parameter (repeatable)", collect)
    .option("--seed <n>", "seed of the random schedule (default 1)")
    .option("--schedule <token>", "replay this schedule token instead")
    .option("--max-steps <n>", `steps before the run counts as inconclusive (default ${DEFAULT_MAX_STEPS}, as explore)`)
    .addOption(new Option("--trace <format>", "trace format (given without --out: only the trace on stdout, the report on stderr)").choices([...TRACE_FORMATS, "none"]).default("ftrace"))
    .option("--out <file>", "write the trace to a file instead of stdout")
    .action((given: string | undefined, o: Opts, cmd: Command) => {
      applyConfig(ctx.config, givenOf(cmd), o, { kernels: "one" });
      const scenario = oneScenario("run", ctx.config, given);
      if (ctx.config?.set.length) applyConfigSet(ctx.config, o, paramNames(scenario));
      checkOutput(o.out);
      const seed = parseIntOption("--seed", o.seed, 0);
      if (seed !== undefined && o.schedule) throw new UsageError("give --seed or --schedule, not both");
      const maxSteps = parseIntOption("--max-steps", o.maxSteps, 1, LIMITS.maxSteps) ?? DEFAULT_MAX_STEPS;
      const out = runCommand({ scenario, kernel: o.kernel, set: o.set, override: o.override, seed, schedule: o.schedule, maxSteps });
      if (out.report.failure?.kind === "scenario") return ctx.exit(scenarioError(io, scenarioErrorLine(scenario, out.report.failure.message, out.report.schedule)));
      emitRun(out.report, out.trace, { format: o.trace, out: o.out, asJson: jsonOf(cmd), traceOnly: cmd.getOptionValueSource("trace") === "cli" }, "run", io);
      ctx.exit(exitForOutcome(out.report.outcome));
    });
}

/** Explore and compare: explorations. */
function defineExploreCommands(program: Command, ctx: Context): void {
  const { io } = ctx;
  program
    .command("explore")
    .description("one exploration, with a progress bar on stderr")
    .argument("[scenario]", "catalog id or a .yaml/.json file (default: the --config file's scenario)")
    .option("--config <file>", CONFIG_HELP)
    .option("--kernel <id>", "kernel preset, optionally with overrides")
    .option("--override <name=value>", "a kernel variant override (repeatable)", collect)
    .option("--set <key=value>", "a scenario parameter (repeatable)", collect)
    .option("--strategy <name>", "pct | random | dpor", "pct")
    .option("--budget <n|time>", "executions (200; dpor 2000) or wall time (30s)")
    .option("--depth <d>", "PCT depth (default 3)")
    .option("--pct-points <shared|all>", "PCT scheduling points: shared accesses (default) or every choice point")
    .option("--preemption-bound <n>", "DPOR: explore only schedules with at most n preemptions")
    .option("--deepen", DEEPEN_HELP)
    .option("--fallback <deepen|none>", FALLBACK_HELP)
    .option("--fallback-budget <n|time>", FALLBACK_BUDGET_HELP)
    .option("--seed <n>", "sampler seed (default 1)")
    .option("--stop-at-first", "stop at the first failure")
    .option("--max-steps <n>", `steps per execution before it counts as inconclusive (default ${DEFAULT_MAX_STEPS})`)
    .option("--out <file>", "also write the JSON report to a file (atomically)")
    .option("--queue <redis-url>", "DPOR: split the proof into sub-jobs for foliosim worker processes on this Redis")
    .option("--split-after <n>", "with --queue: executions after which a sub-job hands its open branches out (default 2000)")
    .action(async (given: string | undefined, o: Opts, cmd: Command) => {
      applyConfig(ctx.config, givenOf(cmd), o, { kernels: "one", strategy: true, depth: true, budget: true, time: true });
      const scenario = oneScenario("explore", ctx.config, given);
      if (ctx.config?.set.length) applyConfigSet(ctx.config, o, paramNames(scenario));
      if (o.queue !== undefined || o.splitAfter !== undefined) {
        if (o.deepen === true) throw new UsageError("--deepen runs its bounds one after the other in this process: it does not split over --queue");
        const { queueExplore } = await import("./queue-cli.js"); // the queue client loads only when asked
        ctx.exit(await queueExplore(scenario, o, strategyChoice(o, true), jsonOf(cmd), io));
        return;
      }
      await exploreAction(scenario, o, jsonOf(cmd), ctx);
    });

  program
    .command("compare")
    .description("the verdict matrix: scenarios × kernels (default: the headline kernels), judged against the expected verdicts")
    .argument("[scenario...]", "catalog ids or .yaml/.json files")
    .option("--all", "the headline scenarios of the built-in catalog (each seed race in its concurrent form where it has one)")
    .option("--config <file>", CONFIG_HELP)
    .option("--kernel <id>", "a kernel (repeatable; default the headline kernels)", collect)
    .option("--set <key=value>", "a scenario parameter, for every scenario that has it (repeatable)", collect)
    .option("--strategy <name>", "pct | random | dpor", "pct")
    .option("--budget <n>", `executions per cell (default ${MAIN_JOB_EXECUTIONS}; 2000 for dpor)`)
    .option("--max-steps <n>", `steps per execution before it counts as inconclusive (default ${DEFAULT_MAX_STEPS})`)
    .option("--depth <d>", "PCT depth (default 3)")
    .option("--pct-points <shared|all>", "PCT scheduling points: shared accesses (default) or every choice point")
    .option("--preemption-bound <n>", "DPOR: explore only schedules with at most n preemptions")
    .option("--deepen", DEEPEN_HELP)
    .option("--fallback <deepen|none>", FALLBACK_HELP)
    .option("--fallback-budget <n>", FALLBACK_BUDGET_HELP)
    .option("--seed <n>", "sampler seed (default 1)")
    .option("--metric <name>", `cost metric shown per cell (${METRIC_NAMES.join(", ")})`, "virtual_ns")
    .option("--markdown", "print the matrix as Markdown (for a pull request or an issue)")
    .option("--shard <i/N>", "run only shard i of N (write it with --out, join with merge)")
    .option("--out <file>", "write the matrix document (shard or whole) to a file, atomically")
    .option("--workers <n>", "worker threads (default: the available CPUs; 0 runs in this thread)")
    .option("--queue <redis-url>", "run the cells on foliosim worker processes through this Redis (same document)")
    .action((scenarios: string[], o: Opts, cmd: Command) => {
      applyConfig(ctx.config, givenOf(cmd), o, { kernels: "many", strategy: true, depth: true, budget: true });
      applyConfigSet(ctx.config, o);
      return compareAction(o.all ? scenarios : configScenarios(ctx.config, scenarios), o, jsonOf(cmd), ctx);
    });
}

/** Evaluate: a variant module against every chosen race. */
function defineEvaluateCommand(program: Command, ctx: Context): void {
  program
    .command("evaluate")
    .description("a variant against every chosen race: base kernel vs base + --variant, for a patch mail")
    .argument("[scenario...]", "catalog ids or .yaml/.json files")
    .option("--all", "every scenario of the built-in catalog")
    .option("--config <file>", CONFIG_HELP)
    .option("--kernel <id>", "the base kernel (default the newest preset)")
    .option("--budget <n>", "PCT executions where DPOR does not complete (default 200)")
    .option("--dpor-budget <n>", "DPOR executions before falling back to PCT (default 400)")
    .option("--max-steps <n>", "steps per execution before it counts as inconclusive (default 60000)")
    .option("--seed <n>", "PCT seed (default 1)")
    .option("--markdown", "print Markdown (for a pull request or an issue)")
    .action((given: string[], o: Record<string, string & boolean>, cmd: Command) => {
      applyConfig(ctx.config, givenOf(cmd), o, { kernels: "one", budget: true });
      const scenarios = o.all ? given : configScenarios(ctx.config, given);
      const cliVariants = (cmd.optsWithGlobals().variant as string[] | undefined) ?? [];
      const variants = cliVariants.length > 0 ? cliVariants : (ctx.config?.variants ?? []);
      if (variants.length !== 1) throw new UsageError(`evaluate needs exactly one --variant FILE (or one in variants: of --config), found ${variants.length}`);
      const report = evaluateCommand({
        kernel: o.kernel ?? NEWEST_PRESET,
        variant: variants[0],
        scenarios,
        all: o.all,
        budget: parseIntOption("--budget", o.budget, 1),
        dporBudget: parseIntOption("--dpor-budget", o.dporBudget, 1),
        maxSteps: parseIntOption("--max-steps", o.maxSteps, 1),
        seed: parseIntOption("--seed", o.seed, 0),
      });
      ctx.io.stdout(jsonOf(cmd) ? json(stamp(report)) : o.markdown ? renderEvaluateMarkdown(report) : renderEvaluate(report));
      ctx.exit(report.regressed ? EXIT.failed : EXIT.ok);
    });
}

/** Merge, replay and validate: documents and files. */
function defineReplayCommands(program: Command, ctx: Context): void {
  const { io } = ctx;
  program
    .command("merge")
    .description("join shard files into the matrix an unsharded compare gives")
    .argument("<file...>", "shard documents written by compare --shard i/N --out FILE")
    .option("--metric <name>", "cost metric shown per cell", "virtual_ns")
    .option("--partial", "accept an incomplete matrix (missing cells, or shards interrupted by Ctrl-C); the result is marked partial")
    .option("--out <file>", "write the merged matrix document to a file")
    .action((files: string[], o: { metric?: string; out?: string; partial?: boolean }, cmd: Command) => {
      checkOutput(o.out);
      const metric = checkMetric(o.metric);
      const output = mergeCommand(files, { partial: o.partial });
      if (o.out) writeFileAtomic(o.out, matrixJson(stamp(output.matrix)) + "\n");
      const missing = output.missing.length > 0 ? `, partial: ${output.missing.length} cell(s) missing` : "";
      emitCompare(output, metric, jsonOf(cmd), io, `foliosim merge: ${files.length} shard(s)${missing}`, replayLine(new Map()));
      ctx.exit(exitForMatrix(output.document.results));
    });

  program
    .command("replay")
    .description("the exact failing execution of a token, shrunk by default")
    .argument("<token>", "a schedule token (fs1.…)")
    .option("--original", "replay the token as given, not its shrunk schedule")
    .addOption(new Option("--trace <format>", "trace format (given without --out: only the trace on stdout, the report on stderr)").choices([...TRACE_FORMATS, "none"]).default("ftrace"))
    .option("--out <file>", "write the trace to a file instead of stdout")
    .option("--scenario <id|file>", "where the token came from, if not the catalog")
    .option("--kernel <id>", "the kernel it was recorded on, if not a preset")
    .option("--set <key=value>", "the parameters it was recorded with", collect)
    .option("--max-steps <n>", `the step budget it was recorded with (default ${DEFAULT_MAX_STEPS})`)
    .option("--config <file>", "the --config file of the run that printed the token: its variant modules, scenarios, kernels, set: and max-steps")
    .action((token: string, o: Opts, cmd: Command) => {
      checkOutput(o.out);
      const steps = givenOf(cmd)("maxSteps") ? o.maxSteps : (ctx.config?.maxSteps ?? o.maxSteps);
      const maxSteps = parseIntOption("--max-steps", steps, 1, LIMITS.maxSteps) ?? DEFAULT_MAX_STEPS;
      const out = replayCommand({ token, original: o.original, scenario: o.scenario, kernel: o.kernel, set: o.set, maxSteps, config: ctx.config });
      if (out.report.failure?.kind === "scenario") return ctx.exit(scenarioError(io, scenarioErrorLine(o.scenario ?? out.report.scenario, out.report.failure.message, out.report.schedule)));
      if (out.shrunk) io.stderr(`shrunk ${out.original} to ${out.report.schedule} (--original replays the token as given)\n`);
      emitRun(out.report, out.trace, { format: o.trace, out: o.out, asJson: jsonOf(cmd), traceOnly: cmd.getOptionValueSource("trace") === "cli" }, "replay", io);
      ctx.exit(exitForOutcome(out.report.outcome));
    });

  program
    .command("validate")
    .description("check user scenario files (YAML or JSON) without running them")
    .argument("<file...>", "scenario files")
    .action((files: string[], _o: unknown, cmd: Command) => {
      const report = validateCommand(files);
      io.stdout(jsonOf(cmd) ? json(report) : renderValidate(report));
      ctx.exit(report.files.every((f) => f.valid) ? EXIT.ok : EXIT.usage);
    });
}

/** The queue worker and the interactive app. */
function defineServiceCommands(program: Command, ctx: Context): void {
  const { io } = ctx;
  program
    .command("worker")
    .description("take compare cells and DPOR sub-jobs from a Redis queue until stopped (SIGTERM finishes the running jobs)")
    .requiredOption("--queue <redis-url>", "the Redis the sweeps are enqueued on (redis://host:port)")
    .option("--concurrency <n>", "jobs at once, each in its own worker thread (default 1)")
    .option("--lock-duration <ms>", "lease of a running job; a dead worker's job is taken over after it (default 30000)")
    .option("--stalled-interval <ms>", "how often leases are checked (default 30000)")
    .action(async (o: { queue: string; concurrency?: string; lockDuration?: string; stalledInterval?: string }) => {
      const { workerCommand } = await import("./commands/worker.js");
      ctx.exit(
        await workerCommand({
          queue: o.queue,
          concurrency: checkWorkers(parseIntOption("--concurrency", o.concurrency, 1)),
          lockDurationMs: parseIntOption("--lock-duration", o.lockDuration, 200),
          stalledIntervalMs: parseIntOption("--stalled-interval", o.stalledInterval, 100),
          log: (line) => io.stderr(`${line}\n`),
        }),
      );
    });

  program
    .command("tui")
    .description("the interactive app (the default in a terminal); FILEs are user scenario files listed beside the catalog")
    .argument("[file...]", "user scenario files (YAML or JSON)")
    .action(async (files: string[]) => {
      if (!io.stdinIsTTY || !io.stdoutIsTTY) throw new UsageError("the TUI needs a terminal on stdin and stdout; use the commands (foliosim --help) instead");
      for (const file of files) loadScenarioFile(file); // a bad file is an input error before the screen opens
      const { startTui } = await import("./tui/start.js");
      ctx.exit(await startTui(files));
    });
}

/** Interrupt handling: the first Ctrl-C asks the command to stop and write its partial report. */
function onInterrupt(handler: () => void): () => void {
  const listener = (): void => handler();
  process.once("SIGINT", listener);
  return () => process.off("SIGINT", listener);
}

function toCounterexample(f: FoundFailure): FoundCounterexample {
  return { scenario: f.scenarioId ?? "", kernel: f.kernelId ?? "", kind: f.kind, message: f.message, execution: f.execution, schedule: f.schedule ?? "" };
}

async function exploreAction(scenario: string, o: Opts, asJson: boolean, ctx: Context): Promise<void> {
  const { io, stream } = ctx;
  checkOutput(o.out);
  const choice = strategyChoice(o, true);
  const bar = io.stderrIsTTY;
  const found: FoundFailure[] = [];
  let last = { executions: 0, failures: 0 };
  let fallbackBudget: number | undefined;
  const session = startExplore(
    { ...choice, scenario, kernel: o.kernel, set: o.set, override: o.override },
    {
      progress: (p) => {
        last = p;
        if (stream) ndjson(io, { event: "progress", ...p });
        const total = fallbackBudget ?? choice.executions ?? (choice.strategy === "dpor" ? 2000 : 200);
        const fraction = p.progress ?? p.executions / total;
        const rateText = p.elapsedMs > 0 ? ` ${Math.round((p.executions / p.elapsedMs) * 1000)} exec/s` : "";
        const line = `${progressBar(fraction)} ${p.executions} executions, ${p.failures} failing${rateText}${p.estimatedRemaining !== undefined ? `, ~${p.estimatedRemaining} left` : ""}`;
        io.stderr(bar ? `\r${line}` : `${line}\n`);
      },
      fallback: (start) => {
        fallbackBudget = start.budget;
        if (stream) ndjson(io, { event: "fallback", ...start });
        io.stderr(`${bar ? "\r\x1b[K" : ""}${fallbackNotice(start)}`);
      },
      failure: (f) => {
        found.push(f);
        if (stream) ndjson(io, { event: "counterexample", ...f });
        io.stderr(`${bar ? "\r\x1b[K" : ""}found ${f.kind} at execution ${f.execution}: ${escapeControl(f.message)}\n`);
      },
    },
  );
  const replay = replayLine(session.files);
  io.stderr(`exploring ${escapeControl(scenario)} (${session.label}): ${session.budget}\n`);
  if (stream) ndjson(io, { event: "start", schemaVersion: SCHEMA_VERSION, scenario, kernel: session.kernel, strategy: session.label, budget: session.budget });
  const off = onInterrupt(() => session.running.stop());
  try {
    const result = await session.running.done;
    if (bar) io.stderr("\n");
    const { document } = session.finish(result);
    if (o.out) writeFileAtomic(o.out, json(document));
    if (stream) ndjson(io, { event: "end", ...document });
    else io.stdout(asJson ? json(document) : renderExplore(document, { replay }));
    const misuse = scenarioErrorLines(document.results, () => scenario);
    ctx.exit(misuse.length > 0 ? scenarioError(io, ...misuse) : exitForOutcome(document.results[0].outcome));
  } catch (error) {
    if (!(error instanceof StoppedError)) throw error;
    if (bar) io.stderr("\n");
    const partial = { schemaVersion: SCHEMA_VERSION, interrupted: true, scenario, kernel: session.kernel, strategy: session.label, budget: session.budget, executions: last.executions, failing: last.failures, results: [], found: found.map(toCounterexample) };
    if (o.out) writeFileAtomic(o.out, json(partial));
    if (stream) ndjson(io, { event: "end", ...partial });
    else io.stdout(asJson ? json(partial) : `interrupted after ${last.executions} executions, ${last.failures} failing (a partial report)\n${renderFound(partial.found, replay)}`);
    ctx.exit(EXIT.interrupted);
  } finally {
    off();
  }
}

async function compareAction(scenarios: string[], o: Opts, asJson: boolean, ctx: Context): Promise<void> {
  const { io } = ctx;
  const metric = checkMetric(o.metric);
  const shard = o.shard ? parseShardOption(o.shard) : undefined;
  if (shard && !o.out) throw new UsageError("--shard needs --out FILE (shards are joined with foliosim merge)");
  checkOutput(o.out);
  const workers = checkWorkers(parseIntOption("--workers", o.workers, 0));
  const choice = compareChoice(strategyChoice(o, false));
  const controller = new AbortController();
  const off = onInterrupt(() => controller.abort());
  const started = performance.now();
  const files = new Map<string, string>();
  try {
    const output = await compareCommand({
      ...choice,
      scenarios,
      all: o.all,
      kernels: o.kernel,
      set: o.set,
      shard,
      workers,
      signal: controller.signal,
      onFiles: (map) => map.forEach((file, id) => files.set(id, file)),
      onStart: (cells, budget) => io.stderr(`comparing ${cells} cell(s)${shard ? ` (shard ${shard.index}/${shard.count})` : ""}: ${budget}\n`),
      onRow: (done, total) => io.stderr(`${progressBar(done.length / total)} ${done.length}/${total} cells\n`),
      queue: o.queue as string | undefined,
      onQueueProgress: (line) => io.stderr(`${line}\n`),
    });
    if (o.out) writeFileAtomic(o.out, matrixJson(stamp(output.matrix)) + "\n");
    const title = `foliosim compare: ${output.scenarios.length} scenario(s) × ${output.kernels.length} kernel(s)${shard ? `, shard ${shard.index}/${shard.count}` : ""} — ${((performance.now() - started) / 1000).toFixed(1)} s`;
    emitCompare(output, metric, asJson, io, title, replayLine(files), Boolean(o.markdown));
    const misuse = scenarioErrorLines(output.document.results, (id) => files.get(id) ?? id);
    ctx.exit(misuse.length > 0 ? scenarioError(io, ...misuse) : exitForMatrix(output.document.results));
  } catch (error) {
    if (!(error instanceof InterruptedCompare)) throw error;
    if (o.out) writeFileAtomic(o.out, matrixJson(stamp(error.partial.matrix)) + "\n");
    emitCompare(error.partial, metric, asJson, io, "foliosim compare (interrupted)", replayLine(files), Boolean(o.markdown));
    ctx.exit(EXIT.interrupted);
  } finally {
    off();
  }
}

function ndjson(io: Io, event: Record<string, unknown>): void {
  io.stdout(JSON.stringify(event.schemaVersion !== undefined ? stamp(event) : event) + "\n");
}

function parseShardOption(text: string): { index: number; count: number } {
  try {
    return parseShard(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}


/**
 * The command that replays a counterexample as printed: the token, plus where it came
 * from when the catalog and presets alone do not say (a user file, a kernel with
 * overrides and the variant modules it names, --set parameters).
 */
export function replayLine(files: ReadonlyMap<string, string>): (scenario: string, kernel: string, token: string) => string {
  return (scenario, kernel, token) => {
    const { id, params } = splitScenarioId(scenario);
    const words = ["foliosim", "replay", token];
    const file = files.get(id);
    if (file !== undefined) words.push("--scenario", file);
    if (file !== undefined || kernel.includes("+")) words.push("--kernel", kernel);
    for (const module of variantFilesOf(kernel)) words.push("--variant", module);
    for (const [k, v] of Object.entries(params)) words.push("--set", `${k}=${String(v)}`);
    return words.map(shellWord).join(" ");
  };
}

interface RunView {
  format: string;
  out: string | undefined;
  asJson: boolean;
  /** --trace given without --out: the trace alone on stdout, the report on stderr. */
  traceOnly: boolean;
}

function emitRun(report: import("./commands/run.js").RunReport, trace: TraceDocument, view: RunView, title: string, io: Io): void {
  const f = view.format === "none" ? undefined : checkTraceFormat(view.format);
  const text = f ? writeTrace(trace, f) : "";
  if (view.out && f) writeFileAtomic(view.out, text);
  if (view.asJson) {
    io.stdout(json({ ...report, ...(f && !view.out ? { trace: { format: f, text } } : {}) }));
    return;
  }
  if (f && !view.out && view.traceOnly) {
    io.stderr(renderRun(report, title));
    io.stdout(text.endsWith("\n") ? text : text + "\n");
    return;
  }
  io.stdout(renderRun(report, title));
  if (f && !view.out) io.stdout(`\nTrace (${f})\n${text}${text.endsWith("\n") ? "" : "\n"}`);
  else if (f && view.out) io.stdout(`\nTrace (${f}) written to ${escapeControl(view.out)}\n`);
}

function emitCompare(output: CompareOutput, metric: string, asJson: boolean, io: Io, title: string, replay: (scenario: string, kernel: string, token: string) => string, markdown = false): void {
  if (asJson) io.stdout(json(output.document satisfies ResultsDocument));
  else if (markdown) io.stdout(renderMatrixMarkdown(output.document, { metric, title, replay }) + (output.document.found ? renderFound(output.document.found, replay) : ""));
  else io.stdout(renderMatrix(output.document, { metric, title, replay }) + (output.document.found ? renderFound(output.document.found, replay) : ""));
}
