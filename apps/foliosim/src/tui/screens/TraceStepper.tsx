import { Box, Text } from "ink";
import { HelpLine } from "../components/HelpLine.js";
import { Title } from "../components/Title.js";
import { useKeymap, type KeyBinding } from "../hooks/use-keymap.js";
import { useStore } from "../hooks/use-store.js";
import type { AppStore } from "../store.js";
import { outcomeLabel } from "../../report.js";

export function TraceStepper({ store }: { store: AppStore }) {
  const state = useStore(store);
  const t = state.trace;
  const bindings: KeyBinding[] = [
    { keys: ["right", "n", "l"], label: "→/n", help: "step", run: () => store.stepTrace(1) },
    { keys: ["left", "p", "h"], label: "←/p", help: "back", run: () => store.stepTrace(-1) },
    { keys: ["g"], help: "first", run: () => store.stepTrace(-1e9) },
    { keys: ["G"], help: "last", run: () => store.stepTrace(1e9) },
    { keys: ["f"], help: "export ftrace", run: () => store.exportTrace("ftrace") },
    { keys: ["P"], help: "export perfetto", run: () => store.exportTrace("perfetto") },
    { keys: ["m"], help: "export mermaid", run: () => store.exportTrace("mermaid") },
    { keys: ["q", "escape"], label: "q/esc", help: "back", run: () => store.go(t?.from ?? "catalog") },
  ];
  const help = useKeymap(bindings);
  if (!t) return <Text>No trace open.</Text>;
  const frame = t.frames[t.index];
  const cpus = t.trace.cpus;
  const columnWidth = Math.max(12, Math.min(22, Math.floor(100 / Math.max(1, cpus))));
  return (
    <Box flexDirection="column">
      <Title detail={`${t.report.kernel} · ${outcomeLabel(t.report.outcome)}`}>{`trace ${t.report.scenario}`}</Title>
      <Text dimColor wrap="truncate-end">schedule {t.report.schedule}</Text>
      {t.report.failure ? <Text wrap="truncate-end">{t.report.failure.kind}: {t.report.failure.message}</Text> : null}
      <Text>
        Step {frame ? frame.index + 1 : 0}/{t.frames.length} (machine step {frame?.step ?? "-"}) on cpu{frame?.cpu ?? "-"} by {frame?.task ?? "-"}
      </Text>
      <Box marginTop={1} flexDirection="row">
        {Array.from({ length: cpus }, (_, c) => (
          <Box key={c} width={columnWidth} flexDirection="column">
            <Text bold>CPU{c}</Text>
            <Text inverse={frame?.cpu === c} wrap="truncate-end">
              {frame?.cpus[c] ?? "—"}
            </Text>
          </Box>
        ))}
      </Box>
      <Box marginTop={1} flexDirection="column">
        {(frame?.lines ?? []).slice(0, 8).map((line, i) => (
          <Text key={i} wrap="truncate-end">
            {i === 0 ? "▶ " : "  "}
            {line}
          </Text>
        ))}
      </Box>
      <Box marginTop={1} flexDirection="column">
        <Text underline>Folios</Text>
        {(frame?.folios ?? []).length === 0 ? <Text dimColor>(no folio touched yet)</Text> : null}
        {(frame?.folios ?? []).map((f) => (
          <Text key={f.name} wrap="truncate-end">
            {f.name}: ref {f.refcount} · pin {f.pincount} · map {f.mapcount} · flags {f.flags || "—"} · in {f.where.join(", ") || "—"}
          </Text>
        ))}
      </Box>
      <HelpLine text={help} message={state.message} />
    </Box>
  );
}
