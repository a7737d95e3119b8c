// ipam.request and ipam.provide: the DHCP options a config asks the server for (option 55, with the reference
// plugin's defaults rule) and the ones it sends, each from a value or a CNI_ARGS key.
import { optionCode, optionName } from '../dhcp/option-names';
import { CLIENT_OWNED_OPTIONS } from '../dhcp/messages';
import { Leniency, entries, invalid, unknownKeys } from './conf-check';
import { CniCode, CniError } from './errors';

/**
 * Option 55 when the config asks for nothing else. The reference plugin's defaults are routers and subnet-mask only
 * (lease.go requestOptionsDefault); a pod also needs DNS (6, 15, 119), routes (121, 33), the lease times and the
 * link's MTU (26, applied with ipam.applyMtu). 121 precedes 3 and 33, as RFC 3442 §4 requires of a client that
 * requests them all.
 */
export const DEFAULT_REQUEST_LIST: readonly number[] = [1, 121, 3, 33, 6, 15, 119, 26, 51, 58, 59];

/** `at`: the entry's index in ipam.provide, for messages. */
export type ProvideOption = { code: number; value: string; at: number } | { code: number; fromArg: string; at: number };

/**
 * The reference plugin's rule (lease.go prepareOptions): requested options in config order, then the defaults not
 * already listed, unless any entry says `skipDefault: true` (an entry may carry only that flag). Duplicates are
 * dropped. One fix-up on top: 121 is moved ahead of 3 and 33 if the user listed those first (RFC 3442 §4).
 */
export function paramRequestList(requested: readonly number[], skipDefault: boolean): number[] {
  const list: number[] = [];
  for (const code of skipDefault ? requested : [...requested, ...DEFAULT_REQUEST_LIST])
    if (!list.includes(code)) list.push(code);
  const classless = list.indexOf(121);
  const firstRouteOption = list.findIndex((c) => c === 3 || c === 33);
  if (classless > firstRouteOption && firstRouteOption >= 0) {
    list.splice(classless, 1);
    list.splice(firstRouteOption, 0, 121);
  }
  return list;
}

function code(v: unknown, field: string): number {
  if (typeof v !== 'string' || v === '') throw invalid(field, 'must be a DHCP option name or code, as a string');
  const found = optionCode(v);
  if (!found.ok) throw invalid(field, found.reason);
  return found.code;
}

export function parseRequest(v: unknown, lenient: Leniency): number[] {
  const requested: number[] = [];
  let skipDefault = false;
  entries(v, 'ipam.request').forEach((e, i) => {
    const field = `ipam.request[${i}]`;
    unknownKeys(e, field, ['option', 'skipDefault'], lenient);
    if (e.skipDefault !== undefined && typeof e.skipDefault !== 'boolean')
      throw invalid(`${field}.skipDefault`, 'must be true or false');
    if (e.skipDefault) skipDefault = true;
    if (e.option === undefined && !e.skipDefault) throw invalid(field, 'needs "option" (or "skipDefault": true)');
    if (e.option !== undefined) requested.push(code(e.option, `${field}.option`));
  });
  return paramRequestList(requested, skipDefault);
}

/** Entries keep their index (`at`) so that later messages name the entry; duplicates stay, the last one resolved
 *  wins (resolveProvide), as the reference's option update does. */
export function parseProvide(v: unknown, lenient: Leniency): ProvideOption[] {
  const provided = new Map<number, number>(); // code → index of the entry that provides it
  const out: ProvideOption[] = [];
  entries(v, 'ipam.provide').forEach((e, i) => {
    const field = `ipam.provide[${i}]`;
    unknownKeys(e, field, ['option', 'value', 'fromArg'], lenient);
    const c = code(e.option, `${field}.option`);
    if (CLIENT_OWNED_OPTIONS.has(c)) {
      const err = invalid(
        `${field}.option`,
        `${JSON.stringify(e.option)} (option ${c}) is set by the DHCP client itself and cannot be provided`,
      );
      lenient.ignore(err, 'entry ignored');
      return;
    }
    const earlier = provided.get(c);
    if (earlier !== undefined)
      lenient.ignore(
        invalid(`${field}.option`, `option ${c} is already provided by ipam.provide[${earlier}]`),
        'the later entry wins',
      );
    provided.set(c, i);
    if ((e.value === undefined) === (e.fromArg === undefined))
      throw invalid(field, 'needs exactly one of "value" and "fromArg"');
    if (e.fromArg !== undefined) {
      if (typeof e.fromArg !== 'string' || e.fromArg === '')
        throw invalid(`${field}.fromArg`, 'must be the name of a CNI_ARGS key, e.g. "K8S_POD_NAME"');
      out.push({ code: c, fromArg: e.fromArg, at: i });
      return;
    }
    if (typeof e.value !== 'string') throw invalid(`${field}.value`, 'must be a string');
    const why = valueProblem(e.value, c);
    if (why) throw invalid(`${field}.value`, why);
    out.push({ code: c, value: e.value, at: i });
  });
  return out;
}

/** DHCP options carry 1..255 bytes (RFC 2132 §2); longer values would need RFC 3396 splitting no server expects. */
function valueProblem(value: string, c: number): string | undefined {
  const bytes = Buffer.byteLength(value);
  if (bytes === 0) return `is empty (option "${optionName(c)}" needs at least 1 byte)`;
  if (bytes > 255) return `is ${bytes} bytes, longer than the 255 a DHCP option holds (option "${optionName(c)}")`;
  return undefined;
}

export interface ResolvedProvide {
  provide: { code: number; value: string }[];
  warnings: string[];
}

/**
 * Values for `provide`, with `fromArg` read from CNI_ARGS. A key absent from CNI_ARGS leaves its option out with a
 * warning, as the reference does (runtimes other than kubelet pass no K8S_* args); with `strict` it is code 4.
 * For a code provided twice the last value wins, in the position of the first.
 */
export function resolveProvide(
  provide: readonly ProvideOption[],
  args: Readonly<Record<string, string>>,
  strict = false,
): ResolvedProvide {
  const lenient = new Leniency(strict);
  const values = new Map<number, string>(); // Map.set on an existing key keeps its position
  for (const p of provide) {
    if ('value' in p) {
      values.set(p.code, p.value);
      continue;
    }
    const field = `ipam.provide[${p.at}].fromArg`;
    const value = args[p.fromArg];
    if (value === undefined) {
      const err = new CniError(
        CniCode.INVALID_ENVIRONMENT_VARIABLES,
        `${field}: CNI_ARGS has no ${p.fromArg}`,
        `option "${optionName(p.code)}" takes its value from CNI_ARGS key ${p.fromArg}`,
      );
      lenient.ignore(err, `option "${optionName(p.code)}" not sent`);
      continue;
    }
    const why = valueProblem(value, p.code);
    if (why) throw new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, `${field}: CNI_ARGS ${p.fromArg} ${why}`);
    values.set(p.code, value);
  }
  return { provide: [...values].map(([code, value]) => ({ code, value })), warnings: lenient.warnings };
}
