// ipam.clientId: how a lease's client identifier (option 61) is chosen, and its value read from CNI_ARGS.
import type { AddParams } from '../registry-api';
import { MAX_CLIENT_ID_TEXT_BYTES } from '../dhcp/types';
import { invalid, isObject, rejectUnknownKeys } from './conf-check';
import { CniCode, CniError } from './errors';

/** IPAM key clientId: "legacy" | "pod" | "duid", or {"value": text} / {"fromArg": CNI_ARGS key}. */
export type ClientIdConf = 'legacy' | 'pod' | 'duid' | { value: string } | { fromArg: string };

export function clientIdConf(v: unknown): ClientIdConf {
  if (v === 'legacy' || v === 'pod' || v === 'duid') return v;
  const how = 'must be "legacy", "pod", "duid", {"value": "<text>"} or {"fromArg": "<CNI_ARGS key>"}';
  if (!isObject(v)) throw invalid('ipam.clientId', `${how}, not ${JSON.stringify(v)}`);
  rejectUnknownKeys(v, 'ipam.clientId', ['value', 'fromArg']);
  if ((v.value === undefined) === (v.fromArg === undefined))
    throw invalid('ipam.clientId', 'needs exactly one of "value" and "fromArg"');
  if (v.fromArg !== undefined) {
    if (typeof v.fromArg !== 'string' || v.fromArg === '')
      throw invalid('ipam.clientId.fromArg', 'must be the name of a CNI_ARGS key');
    return { fromArg: v.fromArg };
  }
  if (typeof v.value !== 'string') throw invalid('ipam.clientId.value', 'must be a string');
  const why = clientIdProblem(v.value);
  if (why) throw invalid('ipam.clientId.value', why);
  return { value: v.value };
}

function clientIdProblem(text: string): string | undefined {
  const bytes = Buffer.byteLength(text);
  if (bytes === 0) return 'is empty';
  if (bytes > MAX_CLIENT_ID_TEXT_BYTES)
    return `is ${bytes} bytes; option 61 holds a type byte and at most ${MAX_CLIENT_ID_TEXT_BYTES} bytes of identifier`;
  return undefined;
}

/** The clientId for the daemon, with fromArg read from CNI_ARGS. */
export function resolveClientId(
  c: ClientIdConf,
  args: Readonly<Record<string, string>>,
): NonNullable<AddParams['clientId']> {
  if (typeof c === 'string' || 'value' in c) return c;
  const value = args[c.fromArg];
  if (value === undefined)
    throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `ipam.clientId.fromArg: CNI_ARGS has no ${c.fromArg}`);
  const why = clientIdProblem(value);
  if (why)
    throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `ipam.clientId.fromArg: CNI_ARGS ${c.fromArg} ${why}`);
  return { value };
}
