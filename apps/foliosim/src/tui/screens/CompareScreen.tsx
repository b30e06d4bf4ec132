import { Box, Text, useStdout } from "ink";
import { Busy } from "../components/Busy.js";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { windowAround } from "../components/viewport.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";
import { coverageText, outcomeLabel, PROOF_GLYPH, proofLabel, type Outcome } from "../../report.js";
import { costText, proofOfRow } from "../../render/text.js";

const COLOR: Record<Outcome, string> = { holds: "green", fails: "red", livelock: "yellow", deadlock: "magenta", inconclusive: "gray" };
const CELL = 24;
const LABEL = 26;

export function CompareScreen({ store }: { store: AppStore }) {
  const state = useStore(store);
  const c = state.compare;
  const { stdout } = useStdout();
  const bindings: KeyBinding[] = [
    { keys: ["up"], label: "↑↓←→", help: "move", run: () => store.moveCursor(-1, 0) },
    { keys: ["down"], label: "", help: "", run: () => store.moveCursor(1, 0) },
    { keys: ["left"], label: "", help: "", run: () => store.moveCursor(0, -1) },
    { keys: ["right"], label: "", help: "", run: () => store.moveCursor(0, 1) },
    { keys: ["return"], label: "enter", help: "open counterexample", run: () => store.openSelectedCell() },
    { keys: ["m"], help: "cost metric", run: () => store.cycleMetric() },
    { keys: ["q", "escape"], label: "q/esc", help: "back", run: () => (state.opening ? store.cancelOpening() : (store.stopRunning(), store.go("catalog"))) },
  ];
  const help = useKeymap(bindings);
  if (!c) return <Text>No comparison yet.</Text>;
  // A scrolling viewport: the columns and rows that fit, around the cursor.
  const cols = windowAround(c.kernels.length, c.cursor.col, Math.floor(((stdout?.columns ?? 100) - LABEL - 1) / CELL));
  const rows = windowAround(c.scenarios.length, c.cursor.row, (stdout?.rows ?? 40) - 14);
  const kernels = c.kernels.slice(cols.start, cols.end);
  return (
    <Box flexDirection="column">
      <Title detail={`${c.rows.length}/${c.total} cells${c.done ? "" : c.stopped ? " (stopped)" : " …"}`}>compare</Title>
      <Text dimColor wrap="truncate-end">{c.budget}</Text>
      <Box marginTop={1} flexDirection="column">
        <Text bold wrap="truncate-end">
          {(cols.start > 0 ? `← ${cols.start} more` : "scenario").padEnd(LABEL)}
          {kernels.map((k) => k.slice(0, CELL - 2).padEnd(CELL)).join("")}
          {cols.end < c.kernels.length ? `→ ${c.kernels.length - cols.end} more` : ""}
        </Text>
        {rows.start > 0 ? <Text dimColor>  ↑ {rows.start} more</Text> : null}
        {c.scenarios.slice(rows.start, rows.end).map((s, k) => {
          const i = rows.start + k;
          return (
            <Text key={s} wrap="truncate-end">
              {s.slice(0, LABEL - 1).padEnd(LABEL)}
              {kernels.map((kernel, m) => {
                const j = cols.start + m;
                const row = store.cellAt(i, j);
                const selected = c.cursor.row === i && c.cursor.col === j;
                const text = row ? `${outcomeLabel(row.outcome)} ${row.failureRate ? `${Math.round(row.failureRate.estimate * 100)}%` : ""} ${costText(row, c.metric)} ${PROOF_GLYPH[proofOfRow(row)]}` : "…";
                // The cursor is a glyph as well as inverse video (NO_COLOR terminals).
                return (
                  <Text key={kernel} inverse={selected} color={row ? COLOR[row.outcome] : undefined}>
                    {`${selected ? "›" : " "}${text}`.slice(0, CELL - 1).padEnd(CELL)}
                  </Text>
                );
              })}
            </Text>
          );
        })}
        {rows.end < c.scenarios.length ? <Text dimColor>  ↓ {c.scenarios.length - rows.end} more</Text> : null}
      </Box>
      <Text dimColor>✓ holds · ✗ fails · ⟳ livelock · ⊘ deadlock · ? inconclusive — failure rate · cost: median {c.metric === "virtual_ns" ? "virtual time" : c.metric} per execution</Text>
      <Text dimColor>∎ proven (DPOR complete) · ≈ sampled (random, PCT, or DPOR cut by its budget)</Text>
      <SelectedProof store={store} row={c.cursor.row} col={c.cursor.col} />
      {c.error ? <Text>Error: {c.error}</Text> : null}
      <Busy state={state} />
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}

/** The selected cell's proof in words, and what a sampled cell covered. */
function SelectedProof({ store, row, col }: { store: AppStore; row: number; col: number }) {
  const cell = store.cellAt(row, col);
  if (!cell) return null;
  const proof = proofOfRow(cell);
  return (
    <Text wrap="truncate-end">
      {cell.scenario} on {cell.kernel}: {proofLabel(proof)} — {coverageText({ ...cell, proof })}
    </Text>
  );
}
