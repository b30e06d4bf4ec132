/**
 * VMA flags (include/linux/mm.h) shared by the layers that test them: the fault and
 * mlock paths (@foliosim/mm), `folio_add_lru_vma` (@foliosim/lru), GUP's
 * `check_vma_flags` (@foliosim/gup).
 */

export const VM_READ = 0x00000001;
export const VM_WRITE = 0x00000002;
export const VM_EXEC = 0x00000004;
export const VM_SHARED = 0x00000008;
export const VM_IO = 0x00004000;
export const VM_LOCKED = 0x00002000;
export const VM_DONTEXPAND = 0x00040000;
export const VM_LOCKONFAULT = 0x00080000;
export const VM_PFNMAP = 0x00000400;
export const VM_MIXEDMAP = 0x10000000;
/** `VM_SPECIAL`: mappings mlock and LRU placement leave alone. */
export const VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;

/** The part of a vma that folio-level code looks at. */
export interface VmaFlags {
  flags: number;
}

/** `(vma->vm_flags & (VM_LOCKED | VM_SPECIAL)) == VM_LOCKED`: new folios here are mlocked. */
export function vmaLockedNotSpecial(vma: VmaFlags): boolean {
  return (vma.flags & (VM_LOCKED | VM_SPECIAL)) === VM_LOCKED;
}
