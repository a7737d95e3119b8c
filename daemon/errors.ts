// Errors the daemon answers with. The code is the CNI error code the plugin reports (common/rpc.ts), so the
// mapping happens once, where the failure is understood.
export const Code = {
  INVALID_ENV: 4,
  INVALID_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  /** ts-dhcp's own range (CNI reserves 100+ for plugins). */
  NO_LEASE: 100,
  LEASE_MISMATCH: 101,
  INTERNAL: 102,
} as const;

export class DaemonError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = 'DaemonError';
  }
}
