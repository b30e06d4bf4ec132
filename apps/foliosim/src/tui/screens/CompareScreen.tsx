import { Box, Text } from "ink";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";
import { outcomeLabel, type Outcome } from "../../report.js";
import { costText } from "../../render/text.js";

const COLOR: Record<Outcome, string> = { holds: "green", fails: "red", livelock: "yellow", deadlock: "magenta", inconclusive: "gray" };

export function CompareScreen({ store }: { store: AppStore }) {
  const state = useStore(store);
  const c = state.compare;
  const bindings: KeyBinding[] = [
    { keys: ["up"], label: "↑", help: "up", run: () => store.moveCursor(-1, 0) },
    { keys: ["down"], label: "↓", help: "down", run: () => store.moveCursor(1, 0) },
    { keys: ["left"], label: "←", help: "left", run: () => store.moveCursor(0, -1) },
    { keys: ["right"], label: "→", help: "right", run: () => store.moveCursor(0, 1) },
    { keys: ["return"], label: "enter", help: "open counterexample", run: () => store.openSelectedCell() },
    { keys: ["m"], help: "cost metric", run: () => store.cycleMetric() },
    { keys: ["q", "escape"], label: "q/esc", help: "back", run: () => (store.stopRunning(), store.go("catalog")) },
  ];
  const help = useKeymap(bindings);
  if (!c) return <Text>No comparison yet.</Text>;
  const width = 24;
  return (
    <Box flexDirection="column">
      <Title detail={`${c.rows.length}/${c.total} cells${c.done ? "" : c.stopped ? " (stopped)" : " …"}`}>compare</Title>
      <Text dimColor>{c.budget}</Text>
      <Box marginTop={1} flexDirection="column">
        <Text bold>
          {"scenario".padEnd(26)}
          {c.kernels.map((k) => k.slice(0, width - 2).padEnd(width)).join("")}
        </Text>
        {c.scenarios.map((s, i) => (
          <Text key={s}>
            {s.slice(0, 25).padEnd(26)}
            {c.kernels.map((k, j) => {
              const row = store.cellAt(i, j);
              const selected = c.cursor.row === i && c.cursor.col === j;
              const text = row ? `${outcomeLabel(row.outcome)} ${row.failureRate ? `${Math.round(row.failureRate.estimate * 100)}%` : ""} ${costText(row, c.metric)}` : "…";
              return (
                <Text key={k} inverse={selected} color={row ? COLOR[row.outcome] : undefined}>
                  {text.slice(0, width - 1).padEnd(width)}
                </Text>
              );
            })}
          </Text>
        ))}
      </Box>
      <Text dimColor>✓ holds · ✗ fails · ⟳ livelock · ⊘ deadlock · ? inconclusive — failure rate · cost: median {c.metric === "virtual_ns" ? "virtual time" : c.metric} per execution</Text>
      {c.error ? <Text>Error: {c.error}</Text> : null}
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}
