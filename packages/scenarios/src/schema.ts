/**
 * The scenario schema. Catalog entries (written with the TypeScript builder) and user
 * files (YAML or JSON) are both validated by it and become the same objects.
 *
 * A scenario names the machine (CPUs, preemption model, memory per zone), a
 * sequential set-up (steps run one after the other, each on its CPU, outside the
 * explored schedule), the concurrent tasks (CPU, policy, a script of calls) and the
 * promise (expected call results, no hang, invariants, nothing left pinned or held).
 *
 * Argument values may be literals, `$name` (the result bound by an earlier step's
 * `as`; `$name.field` for a field of it) or `${param}` (a scenario parameter, set from
 * the command line with `--set param=value`).
 */

import { z } from "zod";
import { ERRNO } from "./errno.js";

/** `${name}`: a scenario parameter, which must be declared under `params:` with a value of the right type. */
export const PARAM_REF = /^\$\{(\w+)\}$/;
export const ParamRef = z.string().regex(PARAM_REF, "a ${param} reference");

/** A whole number in [min, max], or a `${param}` whose values are (checked by validation). */
function intOrParam(min: number, max?: number) {
  const range = max === undefined ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
  return z.custom<number | string>(
    (v) => (typeof v === "number" && Number.isInteger(v) && v >= min && (max === undefined || v <= max)) || (typeof v === "string" && PARAM_REF.test(v)),
    { message: `${range}, or a \${param} declared under params:` },
  );
}

export const ArgValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.number(), z.string(), z.boolean(), z.null(), z.array(ArgValue), z.record(z.string(), ArgValue)]),
);

export const Expectation = z
  .object({
    /** Look at this field of a structured result (e.g. "ret"). */
    field: z.string().optional(),
    equals: ArgValue.optional(),
    /** The value must differ from this one. */
    notEquals: ArgValue.optional(),
    /** An errno name, e.g. "ENOMEM": the result must be its negative value. */
    errno: z.enum(Object.keys(ERRNO) as [keyof typeof ERRNO, ...(keyof typeof ERRNO)[]]).optional(),
    oneOf: z.array(ArgValue).optional(),
    atLeast: z.number().optional(),
    atMost: z.number().optional(),
  })
  .strict();
export type Expectation = z.infer<typeof Expectation>;

export interface Step {
  call: string;
  args?: Record<string, unknown>;
  as?: string;
  expect?: Expectation | Expectation[];
  /** CPU of a set-up step (default 0); ignored in task scripts. */
  cpu?: number;
  /** Run the step this many times, checking `expect` against every result (its `as` binds the last). */
  repeat?: number | string;
  /** Run the step again until its result meets these (at most `max` times; never met breaks the promise). */
  until?: Expectation | Expectation[];
  /** Run the step again while its result meets these (at most `max` times). */
  while?: Expectation | Expectation[];
  /** The bound of an `until`/`while` loop. */
  max?: number | string;
  /** Why the step is there, shown in traces and reports. */
  note?: string;
  /** The process a set-up step runs in (default p0); task steps use their task's. */
  process?: string;
}

export const Step: z.ZodType<Step> = z
  .object({
    call: z.string().min(1),
    args: z.record(z.string(), ArgValue).optional(),
    as: z.string().regex(/^[A-Za-z_][\w]*$/, "a name made of letters, digits and _").optional(),
    expect: z.union([Expectation, z.array(Expectation)]).optional(),
    cpu: z.number().int().min(0).optional(),
    repeat: intOrParam(1).optional(),
    until: z.union([Expectation, z.array(Expectation)]).optional(),
    while: z.union([Expectation, z.array(Expectation)]).optional(),
    max: intOrParam(1, 100_000).optional(),
    note: z.string().optional(),
    process: z.string().optional(),
  })
  .strict();

export const TaskSpec = z
  .object({
    name: z.string().min(1).max(15, "at most 15 characters (TASK_COMM_LEN)"),
    cpu: z.number().int().min(0),
    policy: z.union([z.enum(["normal", "fifo"]), ParamRef], { error: "normal, fifo or a ${param}" }).default("normal"),
    priority: z.number().int().min(1).max(99).optional(),
    /** The process (address space) the task runs in. */
    process: z.string().default("p0"),
    script: z.array(Step).min(1),
  })
  .strict();
export type TaskSpec = z.infer<typeof TaskSpec>;

export const ParamSpec = z
  .object({
    /** The parameter's type (default: the type of `default`); every value must have it. */
    type: z.enum(["number", "string", "boolean"]).optional(),
    default: z.union([z.number(), z.string(), z.boolean()], { error: "a number, a string or true/false" }),
    description: z.string(),
    /** Values `compare` sweeps and tests use; any value of the default's type is accepted. */
    values: z.array(z.union([z.number(), z.string(), z.boolean()])).optional(),
  })
  .strict();
export type ParamSpec = z.infer<typeof ParamSpec>;

export const MemorySpecSchema = z
  .object({
    Normal: z.number().int().min(0).optional(),
    DMA32: z.number().int().min(0).optional(),
    Movable: z.number().int().min(0).optional(),
    CMA: z.number().int().min(0).optional(),
  })
  .strict();

export const MachineSpec = z
  .object({
    cpus: intOrParam(1, 64),
    preemption: z.union([z.enum(["none", "voluntary", "full"]), ParamRef], { error: "none, voluntary, full or a ${param}" }).default("voluntary"),
    memory: MemorySpecSchema.default({ Normal: 64 }),
    /** NUMA nodes, each with the memory above; CPUs are split evenly across them (default 1). */
    nodes: z.number().int().min(1).max(8).optional(),
    costs: z.record(z.string(), z.number().min(0)).optional(),
    livelock: z.object({ steps: z.number().int().min(1).optional(), ns: z.number().min(1).optional() }).strict().optional(),
    /**
     * How far (ns) one CPU may run ahead of another's earliest runnable operation
     * (default 50 us): the longest a task can be held off by interrupts and the like.
     */
    maxSkewNs: z.number().min(1).optional(),
  })
  .strict();
export type MachineSpec = z.infer<typeof MachineSpec>;

export const PromiseSpec = z
  .object({
    /** What the promise says, for `list` and reports. */
    summary: z.string(),
    /** Every task finishes: no deadlock, no livelock. */
    noHang: z.boolean().default(true),
    /** The memory model's invariants hold after every step. */
    invariants: z.boolean().default(true),
    /** Once the tasks finish, no pin, isolation or transient reference is left behind. */
    noLeaks: z.boolean().default(true),
  })
  .strict();

export const Scenario = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, "lower-case letters, digits and dashes"),
    title: z.string(),
    description: z.string(),
    source: z
      .object({
        seeds: z.array(z.string()).default([]),
        reference: z.string().optional(),
        note: z.string().optional(),
      })
      .strict(),
    params: z.record(z.string(), ParamSpec).default({}),
    machine: MachineSpec,
    setup: z.array(Step).default([]),
    tasks: z.array(TaskSpec).min(1),
    /** Read-only steps run after every task has finished: final-state assertions over every binding. */
    check: z.array(Step).default([]),
    promise: PromiseSpec,
  })
  .strict();

export type Scenario = z.infer<typeof Scenario>;
export type ScenarioInput = z.input<typeof Scenario>;
