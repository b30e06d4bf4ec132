import { Box, Static, Text } from "ink";
import { ProgressBar } from "@inkjs/ui";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";
import { outcomeLabel } from "../../report.js";

export function ExploreScreen({ store }: { store: AppStore }) {
  const state = useStore(store);
  const e = state.explore;
  const running = Boolean(e && !e.result && !e.stopped && !e.error);
  const bindings: KeyBinding[] = [
    { keys: ["q", "ctrl+c"], label: "q/ctrl-c", help: running ? "stop (partial report)" : "back", run: () => {
        if (running) {
          store.stopRunning();
          store.markExploreStopped();
        } else store.go("catalog");
      },
    },
    { keys: ["return"], label: "enter", help: "open the counterexample", run: () => store.openExploreFailure() },
    { keys: ["escape"], label: "esc", help: "catalog", run: () => store.go("catalog") },
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
      <Static items={e.failures}>
        {(f) => (
          <Text key={f.signature}>
            ✗ found {f.kind} at execution {f.execution}: {f.message}
          </Text>
        )}
      </Static>
      <Title detail={`${e.kernel}`}>{`explore ${e.scenario}`}</Title>
      <Text dimColor>{e.budget}</Text>
      <Box marginTop={1} flexDirection="row">
        <Box width={32}>
          <ProgressBar value={Math.round(fraction * 100)} />
        </Box>
        <Text>
          {" "}
          {Math.round(fraction * 100)}% · {executions} executions · {rate} exec/s · {p?.failures ?? row?.failures.reduce((n, f) => n + f.count, 0) ?? 0} failing
        </Text>
      </Box>
      <Text>
        Space:{" "}
        {row?.dpor
          ? row.dpor.complete
            ? "explored completely (DPOR)"
            : `~${row.dpor.estimatedRemaining} executions left (DPOR estimate)`
          : p?.estimatedRemaining !== undefined
            ? `~${p.estimatedRemaining} executions left (DPOR estimate)`
            : row?.pct
              ? `sampled ${row.executions} schedules; PCT depth ${row.pct.depth} finds a depth-${row.pct.depth} bug with probability ≥ ${row.pct.guarantee.toPrecision(2)} per execution`
              : `sampling ${e.total} schedules of an unbounded space`}
      </Text>
      <Text>Failures found: {e.failures.length === 0 ? "none yet" : e.failures.map((f) => f.kind).join(", ")}</Text>
      {row ? (
        <Box marginTop={1} flexDirection="column">
          <Text bold>
            Verdict: {outcomeLabel(row.outcome)} after {row.executions} executions
            {row.failureRate ? ` (failure rate ${(row.failureRate.estimate * 100).toFixed(1)}%)` : ""}
          </Text>
          {row.failures.map((f) => (
            <Text key={f.schedule}>
              {f.kind} ×{f.count}: {f.message}
            </Text>
          ))}
        </Box>
      ) : null}
      {e.stopped ? <Text bold>Stopped: a partial report of {executions} executions, {e.failures.length} distinct failure(s).</Text> : null}
      {e.error ? <Text>Error: {e.error}</Text> : null}
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}

