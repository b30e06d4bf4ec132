/**
 * Per-CPU workqueues (kernel/workqueue.c): one bound kworker per CPU, `queue_work_on`,
 * `flush_work`.
 *
 * - A kworker is a SCHED_NORMAL task bound to its CPU, created the first time work is
 *   queued there. It runs only when the scheduler gives it the CPU: a FIFO task or a
 *   non-preemptible loop on that CPU keeps it, and everything flushing its work, waiting.
 * - `queueWorkOn` returns false when the work is already pending (WORK_STRUCT_PENDING).
 * - `flushWork` waits for the last queued instance to finish; it returns whether it waited.
 * Simplification: one worker per CPU (no concurrency-managed extra workers, no rescuer).
 */

import { currentMachine, type Machine, type Task } from "./machine.js";
import { Block, op, Shared, type Op, type TaskGen } from "./op.js";

export class Work extends Shared {
  pending = false;
  /** Sequence number of the last queueing. */
  queuedSeq = 0;
  /** Sequence number of the last instance that finished. */
  doneSeq = 0;
  /** CPU it was last queued on. */
  cpu = -1;
  constructor(
    name: string,
    public fn: () => TaskGen<void>,
  ) {
    super(name);
  }
}

class WorkPool extends Shared {
  readonly queue: { work: Work; seq: number }[] = [];
}

const POOLS = Symbol("worker-pools");

function pool(m: Machine, cpu: number): WorkPool {
  let pools = m.ext.get(POOLS) as WorkPool[] | undefined;
  if (!pools) {
    pools = [];
    m.ext.set(POOLS, pools);
  }
  let p = pools[cpu];
  if (!p) {
    p = pools[cpu] = new WorkPool(`worker_pool/${cpu}`);
    m.setKworker(cpu, spawnKworker(m, cpu));
  }
  return p;
}

function spawnKworker(m: Machine, cpu: number): Task {
  return m.spawn({ name: `kworker/${cpu}:1`, cpu, policy: "normal", daemon: true, restartable: true, body: kworkerThread });
}

/** `worker_thread`: one function for every kworker (it finds its pool through the machine), so a machine snapshot can restart it. */
function* kworkerThread(task: Task): TaskGen<void> {
  const cpu = task.cpu;
  const p = pool(currentMachine(), cpu);
  for (;;) {
    const item = yield* op({
      kind: "worker_wait",
      label: "worker_thread",
      reads: [p],
      writes: [p],
      cost: "schedule",
      block: Block.Sleep,
      enabled: () => p.queue.length > 0,
      waitFor: `work on CPU${cpu}`,
      restartPoint: true,
      run: (mm) => {
        const it = p.queue.shift()!;
        it.work.pending = false;
        mm.markWrite(p);
        mm.noteWrite(it.work); // WORK_STRUCT_PENDING cleared: queue_work_on may queue it again
        mm.event("work_start", it.work.name).arg("cpu", cpu);
        return it;
      },
    });
    yield* item.work.fn();
    yield* op({
      kind: "work_done",
      label: `${item.work.name} done`,
      writes: [item.work],
      cost: "plain",
      run: (mm) => {
        if (item.seq > item.work.doneSeq) item.work.doneSeq = item.seq;
        mm.markWrite(item.work);
        mm.count("work_run");
        mm.event("work_end", item.work.name).arg("cpu", cpu);
      },
    });
  }
}

/** `queue_work_on(cpu, wq, work)`: false if it was already pending. */
export function queueWorkOn(cpu: number, work: Work): Op<boolean> {
  return op({
    kind: "queue_work_on",
    label: `queue_work_on(${cpu}, ${work.name})`,
    writes: [work],
    cost: "queueWork",
    run: (m) => {
      if (cpu < 0 || cpu >= m.cpuCount) throw new RangeError(`queue_work_on: no CPU ${cpu}`);
      if (work.pending) return false;
      const p = pool(m, cpu);
      work.pending = true;
      work.cpu = cpu;
      work.queuedSeq++;
      p.queue.push({ work, seq: work.queuedSeq });
      m.markWrite(work);
      m.markWrite(p);
      m.count("work_queued");
      m.event("work_queue", work.name).arg("cpu", cpu);
      return true;
    },
  });
}

/** `flush_work(work)`: wait until the last queued instance has run. Returns whether it waited. */
export function* flushWork(work: Work): TaskGen<boolean> {
  const target = yield* op({
    kind: "flush_work_start",
    label: `flush_work(${work.name})`,
    reads: [work],
    cost: "plain",
    mightSleep: true,
    // Nothing to wait for when the last queued instance already finished.
    run: () => (work.doneSeq >= work.queuedSeq ? -1 : work.queuedSeq),
  });
  if (target < 0) return false;
  yield* op({
    kind: "flush_work_wait",
    label: `flush_work(${work.name})`,
    reads: [work],
    cost: "schedule",
    block: Block.Sleep,
    enabled: () => work.doneSeq >= target,
    waitFor: `flush_work(${work.name}) on CPU${work.cpu}`,
    run: () => undefined,
  });
  return true;
}

/** The kworker task of a CPU, creating it if needed (for tests and reports). */
export function kworker(cpu: number, m: Machine = currentMachine()): Task {
  pool(m, cpu);
  return m.kworkerOf(cpu)!;
}
