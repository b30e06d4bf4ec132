import { Box, Text } from "ink";
import { ProgressBar } from "@inkjs/ui";
import { Busy } from "../components/Busy.js";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore, State } from "../store.js";
import { outcomeLabel } from "../../report.js";

/** At most this many found failures listed (the count says how many more). */
const SHOWN_FAILURES = 5;

export function ExploreScreen({ store }: { store: AppStore }) {
  const state = useStore(store);
  const e = state.explore;
  const running = Boolean(e && !e.result && !e.stopped && !e.error);
  const bindings: KeyBinding[] = [
    { keys: ["q", "ctrl+c"], label: "q/ctrl-c", help: running ? "stop (keeps what was found)" : "back", run: () => {
        if (running) {
          store.stopRunning();
          store.markExploreStopped();
        } else store.go("catalog");
      },
    },
    { keys: ["up"], label: "↑↓", help: "choose a failure", run: () => store.moveExploreSelection(-1) },
    { keys: ["down"], label: "", help: "", run: () => store.moveExploreSelection(1) },
    { keys: ["return"], label: "enter", help: "open the counterexample", run: () => store.openExploreFailure() },
    { keys: ["escape"], label: "esc", help: "catalog", run: () => (state.opening ? store.cancelOpening() : store.go("catalog")) },
  ];
  const help = useKeymap(bindings);
  if (!e) return <Text>Nothing explored yet.</Text>;
  const p = e.progress;
  const executions = e.result?.results[0]?.executions ?? p?.executions ?? 0;
  const fraction = e.result ? 1 : p?.progress ?? executions / Math.max(1, e.total);
  const rate = p && p.elapsedMs > 0 ? Math.round((p.executions / p.elapsedMs) * 1000) : 0;
  const row = e.result?.results[0];
  return (
    <Box flexDirection="column">
      <Title detail={`${e.kernel}`}>{`explore ${e.scenario}`}</Title>
      <Text dimColor wrap="truncate-end">{e.budget}</Text>
      <Box marginTop={1} flexDirection="row">
        <Box width={22}>
          <ProgressBar value={Math.round(fraction * 100)} />
        </Box>
        <Text wrap="truncate-end">
          {" "}
          {Math.round(fraction * 100)}% · {executions} executions · {rate} exec/s · {p?.failures ?? row?.failures.reduce((n, f) => n + f.count, 0) ?? 0} failing
        </Text>
      </Box>
      <Text wrap="truncate-end">Space: {spaceText(e, row)}</Text>
      <FoundFailures explore={e} />
      {row ? (
        <Box marginTop={1} flexDirection="column">
          <Text bold wrap="truncate-end">
            Verdict: {outcomeLabel(row.outcome)} after {row.executions} executions
            {row.failureRate ? ` (failure rate ${(row.failureRate.estimate * 100).toFixed(1)}%)` : ""}
          </Text>
        </Box>
      ) : null}
      {e.stopped ? <Text bold>Stopped: a partial report of {executions} executions, {e.failures.length} distinct failure(s) kept.</Text> : null}
      {e.error ? <Text>Error: {e.error}</Text> : null}
      <Busy state={state} />
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}

/** The distinct failures found so far, each a line of this screen, the selected one marked. */
function FoundFailures({ explore: e }: { explore: NonNullable<State["explore"]> }) {
  if (e.failures.length === 0) return <Text>Failures found: none yet</Text>;
  const first = Math.max(0, Math.min(e.selected - Math.floor(SHOWN_FAILURES / 2), e.failures.length - SHOWN_FAILURES));
  const shown = e.failures.slice(first, first + SHOWN_FAILURES);
  return (
    <Box flexDirection="column">
      <Text>Failures found: {e.failures.length}</Text>
      {shown.map((f, i) => {
        const selected = first + i === e.selected;
        return (
          <Text key={f.signature} inverse={selected} wrap="truncate-end">
            {selected ? "›" : " "} ✗ found {f.kind} at execution {f.execution}: {f.message}
          </Text>
        );
      })}
      {e.failures.length > shown.length ? <Text dimColor>  … {e.failures.length - shown.length} more (↑↓)</Text> : null}
    </Box>
  );
}

function spaceText(e: NonNullable<State["explore"]>, row: NonNullable<NonNullable<State["explore"]>["result"]>["results"][number] | undefined): string {
  const p = e.progress;
  if (row?.dpor) return row.dpor.complete ? "explored completely (DPOR)" : `~${row.dpor.estimatedRemaining} executions left (DPOR estimate)`;
  if (p?.estimatedRemaining !== undefined) return `~${p.estimatedRemaining} executions left (DPOR estimate)`;
  if (row?.pct) return `sampled ${row.executions} schedules; PCT depth ${row.pct.depth} finds a depth-${row.pct.depth} bug with probability ≥ ${row.pct.guarantee.toPrecision(2)} per execution`;
  return `sampling ${e.total} schedules of an unbounded space`;
}
