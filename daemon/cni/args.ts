// CNI_ARGS: "K=V;K2=V2" (CNI spec, Parameters). Every key is kept: `provide[].fromArg` may name any of them, so no
// key is "unknown" to us, and libcni's IgnoreUnknown switch has nothing to switch; it is validated and dropped.
import { CniCode, CniError } from './errors';

// CNI_ARGS is kept with the lease and shown by the CLI: bounded like everything else a client sends.
export const MAX_ARGS = 32;
export const MAX_ARG_KEY = 128;
export const MAX_ARG_VALUE = 1024;

function argsError(msg: string): CniError {
  return new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `CNI_ARGS: ${msg}`);
}

export function parseCniArgs(raw: string | undefined): Record<string, string> {
  const args: Record<string, string> = {};
  if (!raw) return args;
  for (const pair of raw.split(';')) {
    if (pair === '') continue; // a trailing ';' is common in hand-written CNI_ARGS
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CniError(
        CniCode.INVALID_ENVIRONMENT_VARIABLES,
        `CNI_ARGS: invalid pair ${JSON.stringify(pair)}`,
        'expected KEY=VALUE pairs separated by ";"',
      );
    }
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (key === 'IgnoreUnknown') {
      if (!/^(1|0|true|false)$/i.test(value)) {
        throw new CniError(
          CniCode.INVALID_ENVIRONMENT_VARIABLES,
          `CNI_ARGS: IgnoreUnknown must be 1, 0, true or false, not ${JSON.stringify(value)}`,
        );
      }
      continue;
    }
    if (key.length > MAX_ARG_KEY)
      throw argsError(`a key is longer than ${MAX_ARG_KEY} characters (${JSON.stringify(key.slice(0, 32))}...)`);
    if (value.length > MAX_ARG_VALUE) throw argsError(`${key} is longer than ${MAX_ARG_VALUE} characters`);
    args[key] = value;
    if (Object.keys(args).length > MAX_ARGS) throw argsError(`more than ${MAX_ARGS} keys`);
  }
  return args;
}
