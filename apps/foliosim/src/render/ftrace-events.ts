/**
 * Payloads of the kernel tracepoints the model emits, each exactly as the tracepoint's
 * TP_printk prints it (the header is named above each function). Pure functions over
 * plain values; the ftrace writer picks the values out of the trace document.
 *
 * Values the model does not carry are printed as the kernel would print a zero (and
 * said so where it matters): a hashed `%p` is a stable 16-digit stand-in, `%ps` a symbol
 * named after the work or callback.
 */

/** `%p` with `hash-ptr` off: 16 hex digits. Strings that are no pointer get a stable stand-in. */
export function pointer(v: unknown): string {
  if (typeof v === "string" && /^(0x)?[0-9a-f]{1,16}$/i.test(v)) return v.replace(/^0x/i, "").toLowerCase().padStart(16, "0");
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v.toString(16).padStart(16, "0");
  if (v === null || v === undefined) return "0000000000000000";
  return hashPointer(String(v));
}

/** A stable stand-in for a hashed kernel pointer. */
export function hashPointer(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return "00000000" + (h >>> 0).toString(16).padStart(8, "0");
}

/** `struct page *` (and `struct folio *`) of a pfn in the vmemmap (x86-64: 0xffffea0000000000 + 64 * pfn). */
export function pagePointer(pfn: string): string {
  return (0xffffea0000000000n + BigInt(pfn) * 64n).toString(16);
}

export function int(v: unknown): number {
  const n = typeof v === "number" ? v : typeof v === "boolean" ? (v ? 1 : 0) : Number(v);
  return Number.isFinite(n) ? Math.trunc(n) : 0;
}

/** `%lx`: hex without a prefix. */
export function hexNoPrefix(v: unknown): string {
  if (typeof v === "string" && /^(0x)?[0-9a-f]+$/i.test(v)) return v.replace(/^0x/i, "").toLowerCase().replace(/^0+(?=.)/, "");
  return Math.max(0, int(v)).toString(16);
}

// ---------------------------------------------------------------- sched.h, task.h

/**
 * include/trace/events/sched.h `sched_switch`:
 * "prev_comm=%s prev_pid=%d prev_prio=%d prev_state=%s%s ==> next_comm=%s next_pid=%d next_prio=%d".
 * `prev_state` is `R+` for a preempted task (`__trace_sched_switch_state(preempt=true)`
 * reports TASK_REPORT_MAX), `D` for the model's sleeps (wait_for_completion, mutex_lock,
 * folio_wait_bit_common, wait_var_event: all TASK_UNINTERRUPTIBLE), `I` for an idle kworker
 * (worker_thread sleeps TASK_IDLE), `X` for an exit.
 */
export function schedSwitch(prev: { comm: string; pid: number; prio: number; state: string }, next: { comm: string; pid: number; prio: number }): string {
  return `prev_comm=${prev.comm} prev_pid=${prev.pid} prev_prio=${prev.prio} prev_state=${prev.state} ==> next_comm=${next.comm} next_pid=${next.pid} next_prio=${next.prio}`;
}

/** include/trace/events/sched.h `sched_wakeup_template` (`sched_waking`): "comm=%s pid=%d prio=%d target_cpu=%03d". */
export function schedWaking(comm: string, pid: number, prio: number, targetCpu: number): string {
  return `comm=${comm} pid=${pid} prio=${prio} target_cpu=${String(targetCpu).padStart(3, "0")}`;
}

/** include/trace/events/sched.h `sched_process_template` (`sched_process_exit`): "comm=%s pid=%d prio=%d". */
export function schedProcessExit(comm: string, pid: number, prio: number): string {
  return `comm=${comm} pid=${pid} prio=${prio}`;
}

/** include/trace/events/task.h `task_newtask`: "pid=%d comm=%s clone_flags=%lx oom_score_adj=%hd". */
export function taskNewtask(pid: number, comm: string): string {
  return `pid=${pid} comm=${comm} clone_flags=0 oom_score_adj=0`;
}

// ---------------------------------------------------------------- workqueue.h

/** include/trace/events/workqueue.h `workqueue_queue_work`: "work struct=%p function=%ps workqueue=%s req_cpu=%d cpu=%d". */
export function workqueueQueueWork(work: string, fn: string, workqueue: string, reqCpu: number, cpu: number): string {
  return `work struct=${work} function=${fn} workqueue=${workqueue} req_cpu=${reqCpu} cpu=${cpu}`;
}

/** include/trace/events/workqueue.h `workqueue_activate_work`: "work struct %p". */
export function workqueueActivateWork(work: string): string {
  return `work struct ${work}`;
}

/** include/trace/events/workqueue.h `workqueue_execute_start` and `workqueue_execute_end`: "work struct %p: function %ps". */
export function workqueueExecute(work: string, fn: string): string {
  return `work struct ${work}: function ${fn}`;
}

// ---------------------------------------------------------------- ipi.h, rcu.h

/** include/trace/events/ipi.h `ipi_send_cpu`: "cpu=%u callsite=%pS callback=%pS". */
export function ipiSendCpu(cpu: number, callsite: string, callback: string): string {
  return `cpu=${cpu} callsite=${callsite} callback=${callback}`;
}

/** include/trace/events/ipi.h `ipi_send_cpumask`: "cpumask=%s callsite=%pS callback=%pS" (the mask as `%*pbl`). */
export function ipiSendCpumask(cpus: number[], callsite: string, callback: string): string {
  return `cpumask=${cpuList(cpus)} callsite=${callsite} callback=${callback}`;
}

/** include/trace/events/ipi.h `ipi_handler` (`ipi_entry`, `ipi_exit`): "(%s)". */
export function ipiHandler(reason: string): string {
  return `(${reason})`;
}

/** include/trace/events/rcu.h `rcu_grace_period` and `rcu_exp_grace_period`: "%s %ld %s". */
export function rcuGracePeriod(rcuname: string, gpSeq: number, gpEvent: string): string {
  return `${rcuname} ${gpSeq} ${gpEvent}`;
}

/** A CPU list as the kernel prints masks with `%*pbl`: `0,2-3`. */
export function cpuList(cpus: number[]): string {
  const sorted = [...cpus].sort((x, y) => x - y);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return out.join(",");
}

// ---------------------------------------------------------------- page_ref.h, kmem.h

/** Migratetype numbers (include/linux/mmzone.h with CONFIG_CMA and memory isolation). */
const MIGRATETYPE: Record<string, number> = { UNMOVABLE: 0, MOVABLE: 1, RECLAIMABLE: 2, HIGHATOMIC: 3, CMA: 4, ISOLATE: 5 };

export function migratetype(v: unknown): number {
  if (typeof v === "string" && v.toUpperCase() in MIGRATETYPE) return MIGRATETYPE[v.toUpperCase()];
  return int(v);
}

/**
 * include/trace/events/page_ref.h `page_ref_mod_template`:
 * "pfn=0x%lx flags=%s count=%d mapcount=%d mapping=%p mt=%d val=%d", and
 * `page_ref_mod_and_test_template` with " ret=%d" after it.
 */
export function pageRefPayload(a: Record<string, unknown>): string {
  const pfn = pfnOf(a.pfn);
  const flags = Array.isArray(a.flags) ? a.flags.join("|") : a.flags === undefined ? "" : String(a.flags);
  let s = `pfn=${pfn} flags=${oneLine(flags)} count=${int(a.count)} mapcount=${int(a.mapcount)} mapping=${pointer(a.mapping)} mt=${migratetype(a.mt)} val=${int(a.val)}`;
  if (a.ret !== undefined) s += ` ret=${int(a.ret)}`;
  return s;
}

/** include/trace/events/kmem.h `mm_page_alloc`: "page=%p pfn=0x%lx order=%d migratetype=%d gfp_flags=%s". */
export function mmPageAlloc(pfn: string, order: number, mt: number, gfp: string): string {
  return `page=${pagePointer(pfn)} pfn=${pfn} order=${order} migratetype=${mt} gfp_flags=${gfp}`;
}

/** include/trace/events/kmem.h `mm_page_free`: "page=%p pfn=0x%lx order=%d". */
export function mmPageFree(pfn: string, order: number): string {
  return `page=${pagePointer(pfn)} pfn=${pfn} order=${order}`;
}

// ---------------------------------------------------------------- migrate.h

/** include/trace/events/migrate.h MIGRATE_REASON (`__print_symbolic` names), plus MR_DAMON of newer kernels. */
const MIGRATE_REASON: Record<string, string> = {
  MR_COMPACTION: "compaction",
  MR_MEMORY_FAILURE: "memory_failure",
  MR_MEMORY_HOTPLUG: "memory_hotplug",
  MR_SYSCALL: "syscall_or_cpuset",
  MR_MEMPOLICY_MBIND: "mempolicy_mbind",
  MR_NUMA_MISPLACED: "numa_misplaced",
  MR_CONTIG_RANGE: "contig_range",
  MR_LONGTERM_PIN: "longterm_pin",
  MR_DEMOTION: "demotion",
  MR_DAMON: "damon",
};

function reasonName(v: unknown): string {
  return typeof v === "string" ? MIGRATE_REASON[v] ?? v.replace(/^MR_/, "").toLowerCase() : String(int(v));
}

/** include/trace/events/migrate.h `mm_migrate_pages_start`: "mode=%s reason=%s". */
export function mmMigratePagesStart(a: Record<string, unknown>): string {
  return `mode=${String(a.mode ?? "MIGRATE_ASYNC")} reason=${reasonName(a.reason)}`;
}

/**
 * include/trace/events/migrate.h `mm_migrate_pages`:
 * "nr_succeeded=%lu nr_failed=%lu nr_thp_succeeded=%lu nr_thp_failed=%lu nr_thp_split=%lu nr_split=%lu mode=%s reason=%s".
 * Counts the model's event does not carry print as 0.
 */
export function mmMigratePages(a: Record<string, unknown>): string {
  const n = (k: string): number => Math.max(0, int(a[k]));
  return (
    `nr_succeeded=${n("succeeded")} nr_failed=${n("failed")} nr_thp_succeeded=${n("thp_succeeded")} nr_thp_failed=${n("thp_failed")} ` +
    `nr_thp_split=${n("thp_split")} nr_split=${n("split")} mode=${String(a.mode ?? "MIGRATE_ASYNC")} reason=${reasonName(a.reason)}`
  );
}

/** include/trace/events/migrate.h `migration_pte` (`set_migration_pte`, `remove_migration_pte`): "addr=%lx, pte=%lx order=%d". */
export function migrationPte(addr: unknown, pte: unknown, order: number): string {
  return `addr=${hexNoPrefix(addr)}, pte=${hexNoPrefix(pte)} order=${order}`;
}

// ---------------------------------------------------------------- pagemap.h, filemap.h

/** `enum lru_list` (include/linux/mmzone.h). */
const LRU_LIST: Record<string, number> = { inactive_anon: 0, active_anon: 1, inactive_file: 2, active_file: 3, unevictable: 4 };

/**
 * include/trace/events/pagemap.h `mm_lru_insertion`: "folio=%p pfn=0x%lx lru=%d flags=%s%s%s%s%s%s",
 * the six flag characters M/ (mapped), a/f (anon or file), s/ (swapcache), b/ (swapbacked),
 * d/ (mappedtodisk, not modelled), B/ (private).
 */
export function mmLruInsertion(pfn: string, lru: unknown, pageFlags: string, mapped: boolean): string {
  const flags = new Set(pageFlags.split("|"));
  const list = typeof lru === "string" ? lru : "";
  const anon = list.endsWith("_anon") || (list === "unevictable" && flags.has("swapbacked"));
  const chars = [mapped ? "M" : " ", anon ? "a" : "f", flags.has("swapcache") ? "s" : " ", flags.has("swapbacked") ? "b" : " ", " ", flags.has("private") ? "B" : " "];
  return `folio=${pagePointer(pfn)} pfn=${pfn} lru=${LRU_LIST[list] ?? int(lru)} flags=${chars.join("")}`;
}

/** include/trace/events/pagemap.h `mm_lru_activate`: "folio=%p pfn=0x%lx". */
export function mmLruActivate(pfn: string): string {
  return `folio=${pagePointer(pfn)} pfn=${pfn}`;
}

/**
 * include/trace/events/filemap.h `mm_filemap_op_page_cache` (`mm_filemap_add_to_page_cache`,
 * `mm_filemap_delete_from_page_cache`): "dev %d:%d ino %lx pfn=0x%lx ofs=%lu order=%u".
 * The model's mappings have no device: dev 0:1 (an anonymous superblock such as
 * tmpfs/memfd), inode numbers in order of appearance.
 */
export function mmFilemapOpPageCache(ino: number, pfn: string, index: number, order: number): string {
  return `dev 0:1 ino ${ino.toString(16)} pfn=${pfn} ofs=${Math.max(0, index) * 4096} order=${order}`;
}

// ---------------------------------------------------------------- helpers

/** "0x9f83a8" from a number or a hex string. */
export function pfnOf(v: unknown): string {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return "0x" + v.toString(16);
  if (typeof v === "string" && /^0x[0-9a-f]+$/i.test(v)) return v.toLowerCase();
  if (typeof v === "string" && /^[0-9]+$/.test(v)) return "0x" + Number(v).toString(16);
  return "0x0";
}

export function oneLine(s: string): string {
  return s.replace(/[\r\n]+/g, " ");
}
