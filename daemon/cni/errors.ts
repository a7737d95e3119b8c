// CNI errors: the spec's reserved codes plus ts-dhcp's own (100+), and the error JSON the plugin prints on stdout.
import type { DaemonError, DaemonErrorKind } from '../errors';

/** Codes 1..51 are the CNI spec's (SPEC.md "Error"); 100+ are ts-dhcp's. */
export const CniCode = {
  INCOMPATIBLE_CNI_VERSION: 1,
  UNSUPPORTED_FIELD: 2,
  UNKNOWN_CONTAINER: 3,
  INVALID_ENVIRONMENT_VARIABLES: 4,
  IO_FAILURE: 5,
  DECODING_FAILURE: 6,
  INVALID_NETWORK_CONFIG: 7,
  TRY_AGAIN_LATER: 11,
  PLUGIN_NOT_AVAILABLE: 50,
  LIMITED_CONNECTIVITY: 51,
  /** The daemon holds no lease for the attachment (CHECK). */
  NO_LEASE: 100,
  /** The lease is not what prevResult, the netns or the interface say (CHECK). */
  LEASE_MISMATCH: 101,
  /** The daemon failed unexpectedly (its own internal error, or a JSON-RPC protocol-level error it returned). */
  DAEMON_ERROR: 102,
  /** The daemon's reply was not a JSON-RPC 2.0 response to our request. */
  RPC_PROTOCOL: 103,
  /** A bug in the plugin itself (libcni's ErrInternal value). */
  INTERNAL: 999,
} as const;

export class CniError extends Error {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly details?: string,
  ) {
    super(details ? `${msg}; ${details}` : msg);
    this.name = 'CniError';
  }
}

/** The CNI code of each kind of daemon failure: the one place where the daemon's errors become CNI codes. */
const CODE_OF_KIND: Readonly<Record<DaemonErrorKind, number>> = {
  'invalid-params': CniCode.INVALID_NETWORK_CONFIG,
  'bad-netns': CniCode.INVALID_ENVIRONMENT_VARIABLES,
  'bad-interface': CniCode.INVALID_ENVIRONMENT_VARIABLES,
  'in-use': CniCode.INVALID_ENVIRONMENT_VARIABLES,
  'no-lease': CniCode.NO_LEASE,
  mismatch: CniCode.LEASE_MISMATCH,
  timeout: CniCode.TRY_AGAIN_LATER,
  cancelled: CniCode.TRY_AGAIN_LATER,
  io: CniCode.IO_FAILURE,
};

export function cniCodeOf(kind: DaemonErrorKind): number {
  return CODE_OF_KIND[kind];
}

/** A daemon failure as the plugin reports it: its kind's code, its message as written (it names what is wrong). */
export function cniErrorOf(err: DaemonError): CniError {
  return new CniError(cniCodeOf(err.kind), err.message);
}

export interface CniErrorJson {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** Anything that is not a CniError is a bug in the plugin: reported as INTERNAL, never swallowed. */
export function toCniErrorJson(err: unknown, cniVersion: string): CniErrorJson {
  if (err instanceof CniError) {
    const out: CniErrorJson = { cniVersion, code: err.code, msg: err.msg };
    if (err.details) out.details = err.details;
    return out;
  }
  const message = err instanceof Error ? err.message : String(err);
  return { cniVersion, code: CniCode.INTERNAL, msg: `internal error: ${message}` };
}
