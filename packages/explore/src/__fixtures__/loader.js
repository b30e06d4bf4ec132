// A tiny target loader in plain JavaScript, so pool workers (which run built code on
// Node 20) can load it: scenarios "counter" and "handoff", kernels "buggy" and "fixed".
import { Cell, atomicAdd, readOnce, writeOnce } from "@foliosim/sim";

function counter(kernelId) {
  let count;
  return {
    scenarioId: "counter",
    kernelId,
    config: { cpus: 2, preemption: "none" },
    program(m) {
      count = new Cell("count", 0);
      const shared = count;
      for (let t = 0; t < 2; t++) {
        m.spawn({
          name: `inc${t}`,
          cpu: t,
          *body() {
            for (let i = 0; i < 2; i++) {
              if (kernelId === "fixed") yield* atomicAdd(shared, 1);
              else {
                const v = yield* readOnce(shared);
                yield* writeOnce(shared, v + 1);
              }
            }
          },
        });
      }
    },
    check: () => (count.value === 4 ? null : `count is ${count.value}, expected 4`),
  };
}

function handoff(kernelId) {
  return {
    scenarioId: "handoff",
    kernelId,
    config: { cpus: 2, preemption: "none" },
    program(m) {
      const data = new Cell("data", 0);
      const flag = new Cell("flag", 0);
      m.spawn({
        name: "producer",
        cpu: 0,
        *body() {
          if (kernelId === "fixed") {
            yield* writeOnce(data, 42);
            yield* writeOnce(flag, 1);
          } else {
            yield* writeOnce(flag, 1);
            yield* writeOnce(data, 42);
          }
        },
      });
      m.spawn({
        name: "consumer",
        cpu: 1,
        *body() {
          if ((yield* readOnce(flag)) === 0) return "empty";
          return yield* readOnce(data);
        },
      });
    },
    check: (r) => (r.tasks.find((t) => t.name === "consumer").result === 0 ? "consumer saw the flag before the data" : null),
  };
}

export default function load(scenarioId, kernelId) {
  if (scenarioId === "counter") return counter(kernelId);
  if (scenarioId === "handoff") return handoff(kernelId);
  throw new Error(`unknown scenario ${scenarioId}`);
}
