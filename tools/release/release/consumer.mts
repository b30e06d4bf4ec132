// A consumer of the published packages: nothing but `npm install foliosim @foliosim/scenarios`.
import { CATALOG, KERNEL_PRESETS, getScenario, runScenario } from "@foliosim/scenarios";

const firstRunnable: Parameters<typeof runScenario>[2] = { choose: () => 0 }; // always the first runnable op
const s1 = getScenario("pkvm-mlock-cma");
for (const kernel of ["linux-6.10", "linux-7.0"]) {
  const run = runScenario(s1, kernel, firstRunnable);
  console.log(`${s1.id} on ${kernel}: ${run.verdict}`);
}
console.log(`${CATALOG.length} scenarios, ${KERNEL_PRESETS.length} kernels`);
