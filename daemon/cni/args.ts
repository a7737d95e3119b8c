// CNI_ARGS: "K=V;K2=V2" (CNI spec, Parameters). Every key is kept: `provide[].fromArg` may name any of them, so no
// key is "unknown" to us, and libcni's IgnoreUnknown switch has nothing to switch; it is validated and dropped.
import { CniCode, CniError } from './errors';

export function parseCniArgs(raw: string | undefined): Record<string, string> {
  const args: Record<string, string> = {};
  if (!raw) return args;
  for (const pair of raw.split(';')) {
    if (pair === '') continue; // a trailing ';' is common in hand-written CNI_ARGS
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `CNI_ARGS: invalid pair ${JSON.stringify(pair)}`, 'expected KEY=VALUE pairs separated by ";"');
    }
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (key === 'IgnoreUnknown') {
      if (!/^(1|0|true|false)$/i.test(value)) {
        throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `CNI_ARGS: IgnoreUnknown must be 1, 0, true or false, not ${JSON.stringify(value)}`);
      }
      continue;
    }
    args[key] = value;
  }
  return args;
}
