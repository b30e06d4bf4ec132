/** The errno values the modelled paths return (include/uapi/asm-generic/errno-base.h, errno.h). */

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  ENOSYS: 38,
  EOPNOTSUPP: 95,
  ETIMEDOUT: 110,
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
