// How each key of the network config is checked: an error naming the field's path (CNI code 7), objects and
// arrays of objects, and the leniency the reference plugin's users rely on (unknown keys and unusable entries
// ignored with a warning, unless ipam.strict).
import { CniCode, CniError } from './errors';

export type Obj = Record<string, unknown>;

export function invalid(field: string, what: string): CniError {
  return new CniError(CniCode.INVALID_NETWORK_CONFIG, `${field}: ${what}`);
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Collects what a lenient parse ignores; with `strict` each of those is thrown instead. */
export class Leniency {
  readonly warnings: string[] = [];
  constructor(readonly strict: boolean) {}

  /** `err` when strict; otherwise its message plus what was done instead becomes a warning. */
  ignore(err: CniError, instead: string): void {
    if (this.strict) throw err;
    this.warnings.push(`${err.msg}; ${instead}`);
  }
}

/** Unknown keys: rejected with ipam.strict, ignored otherwise (Go's encoding/json, which the reference uses, ignores
 *  them, and real configs carry keys of other tools). */
export function unknownKeys(o: Obj, field: string, known: readonly string[], lenient: Leniency): void {
  for (const key of Object.keys(o)) {
    if (known.includes(key)) continue;
    let value = JSON.stringify(o[key]) ?? 'undefined';
    if (value.length > 64) value = `${value.slice(0, 61)}...`;
    lenient.ignore(
      new CniError(
        CniCode.UNSUPPORTED_FIELD,
        `${field}.${key}: unsupported field (value ${value})`,
        `supported keys: ${known.join(', ')}`,
      ),
      'ignored',
    );
  }
}

/** Keys of ts-dhcp's own objects (clientId): no reference config carries them, so a typo there is always an error. */
export function rejectUnknownKeys(o: Obj, field: string, known: readonly string[]): void {
  unknownKeys(o, field, known, new Leniency(true));
}

/** An optional array of objects (absent: none). */
export function entries(v: unknown, field: string): Obj[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw invalid(field, 'must be an array');
  return v.map((e, i) => {
    if (!isObject(e)) throw invalid(`${field}[${i}]`, 'must be an object');
    return e;
  });
}
