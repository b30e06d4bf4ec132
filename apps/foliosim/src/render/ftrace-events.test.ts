import { describe, expect, it } from "vitest";
import type { TraceEvent } from "@foliosim/sim";
import { buildTraceDocument, writeFtrace, type TraceSource } from "../index.js";
import { KERNEL_EVENTS } from "./ftrace.js";

/**
 * One golden line per event kind. Each expected payload is the kernel's TP_printk format
 * string (quoted in the comment above it, with its header) filled in by hand.
 */

const ev = (step: number, t: number, cpu: number, task: number, type: string, name?: string, args?: Record<string, unknown>): TraceEvent => {
  const e: TraceEvent = { step, t, cpu, task, type };
  if (name !== undefined) e.name = name;
  if (args !== undefined) e.args = args;
  return e;
};

function source(trace: TraceEvent[]): TraceSource {
  return {
    trace,
    taskTable: [
      { id: 0, name: "gup_test", cpu: 0, policy: "normal", priority: 0, daemon: false },
      { id: 1, name: "migrate", cpu: 1, policy: "fifo", priority: 10, daemon: false },
      { id: 2, name: "kworker/1:1", cpu: 1, policy: "normal", priority: 0, daemon: true },
    ],
    cpus: 2,
    status: "done",
    steps: 20,
    virtualNs: 100_000,
  };
}

const FOLIO = "folio 0x9f83a8";
const REF = { pfn: "0x9f83a8", flags: "uptodate|lru", count: 1025, mapcount: 0, mapping: "00000000c0ffee42", mt: 1, val: 1024 };

/** Everything the model emits, in one run: the payload of each line is checked below. */
const TRACE: TraceEvent[] = [
  ev(0, 0, -1, -1, "mm_page_alloc", FOLIO, { pfn: "0x9f83a8", order: 0, zone: "Normal", migratetype: "MOVABLE" }),
  ev(1, 1000, 0, 0, "switch", "gup_test", { prev: "swapper", prevState: "R", next: "gup_test" }),
  ev(1, 1000, 0, 0, "page_ref_mod", FOLIO, REF),
  ev(1, 1000, 0, 0, "op", "folio_alloc(GFP_HIGHUSER_MOVABLE)"),
  ev(2, 1100, 0, 0, "page_ref_mod_unless", FOLIO, { ...REF, count: 1026, val: 1, ret: 1 }),
  ev(3, 1200, 0, 0, "page_ref_mod_and_test", FOLIO, { ...REF, count: 2, val: -1024, ret: 0 }),
  ev(4, 1300, 0, 0, "page_ref_freeze", FOLIO, { ...REF, count: 2, val: 2, ret: 1 }),
  ev(5, 1400, 0, 0, "page_ref_unfreeze", FOLIO, { ...REF, count: 2, val: 2 }),
  ev(6, 1500, 0, 0, "mm_migrate_pages_start", undefined, { mode: "MIGRATE_SYNC", reason: "MR_LONGTERM_PIN" }),
  ev(7, 1600, 0, 0, "set_migration_pte", FOLIO, { addr: "0x7f0000001000", mm: "mm" }),
  ev(8, 1700, 0, 0, "mm_migrate_pages", undefined, { failed: 1, rc: 1, mode: "MIGRATE_SYNC", reason: "MR_LONGTERM_PIN" }),
  ev(9, 1800, 0, 0, "mm_lru_insertion", FOLIO, { pfn: "0x9f83a8", lru: "inactive_anon", flags: "uptodate|lru|swapbacked" }),
  ev(10, 1900, 0, 0, "mm_lru_activate", FOLIO, { pfn: "0x9f83a8" }),
  ev(11, 2000, 0, 0, "mm_filemap_add_to_page_cache", FOLIO, { mapping: "memfd:a", index: 3 }),
  ev(12, 2100, 0, 0, "mm_filemap_delete_from_page_cache", FOLIO, { mapping: "memfd:a", index: 3 }),
  ev(13, 2200, 0, 0, "work_queue", "lru_add_drain_work/1", { cpu: 1 }),
  ev(14, 2300, 0, 0, "ipi", "mlock_drain_remote", { from: 0, to: 1 }),
  ev(15, 2400, 0, 0, "rcu_gp_start", "normal"),
  ev(15, 2400, 0, 0, "block", "flush_work(lru_add_drain_work/1)"),
  ev(16, 3000, 1, 2, "switch", "kworker/1:1", { prev: "swapper", prevState: "R", next: "kworker/1:1" }),
  ev(16, 3000, 1, 2, "work_start", "lru_add_drain_work/1", { cpu: 1 }),
  ev(16, 3100, 1, 2, "work_end", "lru_add_drain_work/1", { cpu: 1 }),
  ev(16, 3150, 0, 0, "wake", "flush_work(lru_add_drain_work/1)"),
  ev(17, 3200, 1, 1, "switch", "migrate", { prev: "kworker/1:1", prevState: "R", next: "migrate" }),
  ev(17, 3300, 1, 1, "mm_page_free", FOLIO, { pfn: "0x9f83a8", order: 0 }),
  ev(17, 3300, 1, 1, "rmap_add", FOLIO, { addr: "0x1000" }),
  ev(18, 3400, 1, 1, "exit", "migrate"),
];

function lines(): string[] {
  return writeFtrace(buildTraceDocument(source(TRACE), { scenario: "every-event", kernel: "k" }))
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("#"));
}

/** The payload of the first line of `event`. */
function payload(event: string): string {
  const l = lines().find((x) => x.includes(` ${event}: `));
  expect(l, `no ${event} line`).toBeDefined();
  return l!.slice(l!.indexOf(` ${event}: `) + event.length + 3);
}

describe("ftrace lines in the kernel's TP_printk formats", () => {
  it("sched_switch, sched_waking, task_newtask-free set-up, sched_process_exit (include/trace/events/sched.h)", () => {
    const all = lines().filter((l) => l.includes(" sched_switch: ")).map((l) => l.slice(l.indexOf("sched_switch: ") + 14));
    // "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d"
    expect(all).toEqual([
      "prev_comm=swapper/0 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=gup_test next_pid=1 next_prio=120",
      // A sleep in flush_work: TASK_UNINTERRUPTIBLE prints D.
      "prev_comm=gup_test prev_pid=1 prev_prio=120 prev_state=D ==> next_comm=swapper/0 next_pid=0 next_prio=120",
      "prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=kworker/1:1 next_pid=3 next_prio=120",
      // Preempted: __trace_sched_switch_state(preempt=true) = TASK_REPORT_MAX prints R+; SCHED_FIFO 10 is prio 89.
      "prev_comm=kworker/1:1 prev_pid=3 prev_prio=120 prev_state=R+ ==> next_comm=migrate next_pid=2 next_prio=89",
      "prev_comm=migrate prev_pid=2 prev_prio=89 prev_state=X ==> next_comm=swapper/1 next_pid=0 next_prio=120",
    ]);
    // sched_wakeup_template: "comm=%s pid=%d prio=%d target_cpu=%03d"
    expect(payload("sched_waking")).toBe("comm=gup_test pid=1 prio=120 target_cpu=000");
    // sched_process_template: "comm=%s pid=%d prio=%d"
    expect(payload("sched_process_exit")).toBe("comm=migrate pid=2 prio=89");
  });

  it("page_ref_* (include/trace/events/page_ref.h)", () => {
    // page_ref_mod_template: "pfn=0x%lx flags=%s count=%d mapcount=%d mapping=%p mt=%d val=%d"
    expect(payload("page_ref_mod")).toBe("pfn=0x9f83a8 flags=uptodate|lru count=1025 mapcount=0 mapping=00000000c0ffee42 mt=1 val=1024");
    expect(payload("page_ref_unfreeze")).toBe("pfn=0x9f83a8 flags=uptodate|lru count=2 mapcount=0 mapping=00000000c0ffee42 mt=1 val=2");
    // page_ref_mod_and_test_template: "pfn=0x%lx flags=%s count=%d mapcount=%d mapping=%p mt=%d val=%d ret=%d"
    expect(payload("page_ref_mod_unless")).toBe("pfn=0x9f83a8 flags=uptodate|lru count=1026 mapcount=0 mapping=00000000c0ffee42 mt=1 val=1 ret=1");
    expect(payload("page_ref_mod_and_test")).toBe("pfn=0x9f83a8 flags=uptodate|lru count=2 mapcount=0 mapping=00000000c0ffee42 mt=1 val=-1024 ret=0");
    expect(payload("page_ref_freeze")).toBe("pfn=0x9f83a8 flags=uptodate|lru count=2 mapcount=0 mapping=00000000c0ffee42 mt=1 val=2 ret=1");
  });

  it("mm_page_alloc and mm_page_free (include/trace/events/kmem.h)", () => {
    // "page=%p pfn=0x%lx order=%d migratetype=%d gfp_flags=%s" (page = vmemmap + 64 * pfn)
    expect(payload("mm_page_alloc")).toBe("page=ffffea0027e0ea00 pfn=0x9f83a8 order=0 migratetype=1 gfp_flags=GFP_HIGHUSER_MOVABLE");
    // "page=%p pfn=0x%lx order=%d"
    expect(payload("mm_page_free")).toBe("page=ffffea0027e0ea00 pfn=0x9f83a8 order=0");
  });

  it("mm_migrate_pages, mm_migrate_pages_start, set_migration_pte (include/trace/events/migrate.h)", () => {
    // "mode=%s reason=%s", reason through MIGRATE_REASON's __print_symbolic
    expect(payload("mm_migrate_pages_start")).toBe("mode=MIGRATE_SYNC reason=longterm_pin");
    // "nr_succeeded=%lu nr_failed=%lu nr_thp_succeeded=%lu nr_thp_failed=%lu nr_thp_split=%lu nr_split=%lu mode=%s reason=%s"
    expect(payload("mm_migrate_pages")).toBe("nr_succeeded=0 nr_failed=1 nr_thp_succeeded=0 nr_thp_failed=0 nr_thp_split=0 nr_split=0 mode=MIGRATE_SYNC reason=longterm_pin");
    // migration_pte: "addr=%lx, pte=%lx order=%d"
    expect(payload("set_migration_pte")).toBe("addr=7f0000001000, pte=0 order=0");
  });

  it("mm_lru_insertion and mm_lru_activate (include/trace/events/pagemap.h)", () => {
    // "folio=%p pfn=0x%lx lru=%d flags=%s%s%s%s%s%s": M/' ', a/f, s/' ', b/' ', d/' ', B/' '
    // (mapped: the page_ref lines before it print _mapcount 0, one mapping; anon LRU; swapbacked)
    expect(payload("mm_lru_insertion")).toBe("folio=ffffea0027e0ea00 pfn=0x9f83a8 lru=0 flags=Ma b  ");
    // "folio=%p pfn=0x%lx"
    expect(payload("mm_lru_activate")).toBe("folio=ffffea0027e0ea00 pfn=0x9f83a8");
  });

  it("mm_filemap_*_page_cache (include/trace/events/filemap.h)", () => {
    // mm_filemap_op_page_cache: "dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u" (ofs = index << PAGE_SHIFT)
    expect(payload("mm_filemap_add_to_page_cache")).toBe("dev 0:1 ino 1 pfn=0x9f83a8 ofs=12288 order=0");
    expect(payload("mm_filemap_delete_from_page_cache")).toBe("dev 0:1 ino 1 pfn=0x9f83a8 ofs=12288 order=0");
  });

  it("workqueue_* (include/trace/events/workqueue.h)", () => {
    // "work struct=%p function=%ps workqueue=%s req_cpu=%d cpu=%d"; mm/swap.c queues the drain on mm_percpu_wq
    expect(payload("workqueue_queue_work")).toMatch(/^work struct=[0-9a-f]{16} function=lru_add_drain_work workqueue=mm_percpu_wq req_cpu=1 cpu=1$/);
    // workqueue_work: "work struct %p"
    expect(payload("workqueue_activate_work")).toMatch(/^work struct [0-9a-f]{16}$/);
    // "work struct %p: function %ps"
    expect(payload("workqueue_execute_start")).toMatch(/^work struct [0-9a-f]{16}: function lru_add_drain_work$/);
    expect(payload("workqueue_execute_end")).toMatch(/^work struct [0-9a-f]{16}: function lru_add_drain_work$/);
  });

  it("ipi_* and rcu_grace_period (include/trace/events/ipi.h, rcu.h)", () => {
    // ipi_send_cpu: "cpu=%u callsite=%pS callback=%pS"
    expect(payload("ipi_send_cpu")).toBe("cpu=1 callsite=smp_call_function_single callback=mlock_drain_remote");
    // ipi_handler: "(%s)"
    expect(payload("ipi_entry")).toBe("(Function call interrupts)");
    expect(payload("ipi_exit")).toBe("(Function call interrupts)");
    // rcu_grace_period: "%s %ld %s"
    expect(payload("rcu_grace_period")).toBe("rcu_preempt 4 start");
  });

  it("namespaces every event the kernel does not have as foliosim_…", () => {
    const names = lines().map((l) => /\d+\.\d{9}: ([^:]+): /.exec(l)![1]);
    for (const n of names) expect(KERNEL_EVENTS.has(n) || n.startsWith("foliosim_"), n).toBe(true);
    expect(names).toContain("foliosim_rmap_add");
    expect(names).toContain("foliosim_op");
  });

  it("has nanosecond timestamps that never go back in file order and step forward at every change of CPU", () => {
    const parsed = lines().map((l) => {
      const m = /\[(\d{3})\] \.{4} +(\d+)\.(\d{9}): /.exec(l)!;
      return { cpu: Number(m[1]), ns: Number(m[2]) * 1e9 + Number(m[3]) };
    });
    for (let i = 1; i < parsed.length; i++) {
      const [a, b] = [parsed[i - 1], parsed[i]];
      if (a.cpu === b.cpu) expect(b.ns).toBeGreaterThanOrEqual(a.ns);
      else expect(b.ns).toBeGreaterThan(a.ns);
    }
    // A stable sort by timestamp (what trace-cmd and Perfetto do, per-CPU order kept) is the file order.
    const sorted = parsed.map((p, i) => ({ ...p, i })).sort((x, y) => x.ns - y.ns || x.i - y.i);
    expect(sorted.map((s) => s.i)).toEqual(parsed.map((_, i) => i));
    // The wake-up at 3150 ns on CPU0 comes after the kworker's 3100 ns line on CPU1, and the
    // exit at 3400 ns keeps its own clock.
    expect(lines().find((l) => l.includes("sched_process_exit"))).toContain(" 0.000003400: ");
  });
});
