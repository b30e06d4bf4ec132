/**
 * Checks a schema-valid scenario further, before anything runs: every call exists
 * (with the closest valid name suggested), its argument names are known, `$name`
 * references are bound by an earlier step, `${param}` references exist, and tasks fit
 * the machine. Each issue has a path into the document (`tasks.1.script.0.call`).
 */

import { callArgNames, callNames, hasCall } from "./calls.js";
import { suggest } from "./kernels.js";
import type { Scenario, Step } from "./schema.js";

export interface ValidationIssue {
  /** Dotted path into the scenario document. */
  path: string;
  message: string;
}

function refs(v: unknown, out: { bindings: string[]; params: string[] }): void {
  if (typeof v === "string") {
    const p = /^\$\{(\w+)\}$/.exec(v);
    if (p) out.params.push(p[1]);
    else {
      const b = /^\$([A-Za-z_]\w*)/.exec(v);
      if (b) out.bindings.push(b[1]);
    }
  } else if (Array.isArray(v)) v.forEach((x) => refs(x, out));
  else if (v !== null && typeof v === "object") Object.values(v).forEach((x) => refs(x, out));
}

function checkSteps(steps: Step[], base: string, bound: Set<string>, s: Scenario, issues: ValidationIssue[]): void {
  steps.forEach((step, j) => {
    const path = `${base}.${j}`;
    if (!hasCall(step.call)) {
      issues.push({ path: `${path}.call`, message: `unknown call "${step.call}"${suggest(step.call, callNames())}` });
    } else {
      const names = callArgNames(step.call);
      if (names) {
        for (const arg of Object.keys(step.args ?? {})) {
          if (!names.includes(arg)) issues.push({ path: `${path}.args.${arg}`, message: `${step.call} has no argument "${arg}"${suggest(arg, names)}; its arguments: ${names.join(", ")}` });
        }
      }
    }
    const r = { bindings: [] as string[], params: [] as string[] };
    refs([step.args, step.repeat, step.expect], r);
    for (const b of r.bindings) if (!bound.has(b)) issues.push({ path, message: `"$${b}" is not bound by an earlier step${suggest(b, [...bound])}` });
    for (const p of r.params) if (!(p in s.params)) issues.push({ path, message: `unknown parameter "\${${p}}"${suggest(p, Object.keys(s.params))}` });
    if (step.as) bound.add(step.as);
  });
}

export function validateScenario(s: Scenario): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const globals = new Set<string>();
  checkSteps(s.setup, "setup", globals, s, issues);
  const cpus = typeof s.machine.cpus === "number" ? s.machine.cpus : undefined;
  s.setup.forEach((step, j) => {
    if (cpus !== undefined && (step.cpu ?? 0) >= cpus) issues.push({ path: `setup.${j}.cpu`, message: `CPU ${step.cpu} does not exist: the machine has ${cpus} CPUs` });
  });
  const names = new Set<string>();
  s.tasks.forEach((t, i) => {
    if (names.has(t.name)) issues.push({ path: `tasks.${i}.name`, message: `task name "${t.name}" is used twice` });
    names.add(t.name);
    if (cpus !== undefined && t.cpu >= cpus) issues.push({ path: `tasks.${i}.cpu`, message: `CPU ${t.cpu} does not exist: the machine has ${cpus} CPUs` });
    const r = { bindings: [] as string[], params: [] as string[] };
    refs(t.policy, r);
    for (const p of r.params) if (!(p in s.params)) issues.push({ path: `tasks.${i}.policy`, message: `unknown parameter "\${${p}}"${suggest(p, Object.keys(s.params))}` });
    if (t.priority !== undefined && t.policy === "normal") issues.push({ path: `tasks.${i}.priority`, message: "a priority needs policy: fifo" });
    checkSteps(t.script, `tasks.${i}.script`, new Set(globals), s, issues);
  });
  return issues;
}
