/** The errno values the modelled paths return (include/uapi/asm-generic/errno-base.h, errno.h). */

export const ERRNO = {
  EPERM: 1,
  EINTR: 4,
  EIO: 5,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EINVAL: 22,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
  EREMOTEIO: 121,
  EHWPOISON: 133,
} as const;

export type ErrnoName = keyof typeof ERRNO;

/** `-12 (ENOMEM)` for a negative errno, the number itself otherwise. */
export function describeReturn(v: unknown): string {
  if (typeof v === "number" && v < 0) {
    const name = (Object.keys(ERRNO) as ErrnoName[]).find((k) => ERRNO[k] === -v);
    if (name) return `${v} (${name})`;
  }
  return typeof v === "string" ? v : JSON.stringify(v);
}
