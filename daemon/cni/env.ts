// The environment each CNI verb needs (CNI spec, "CNI operations"), checked before anything else happens.
import { CniCode, CniError } from './errors';

export type Verb = 'ADD' | 'DEL' | 'CHECK' | 'STATUS' | 'GC' | 'VERSION';
const VERBS: readonly Verb[] = ['ADD', 'DEL', 'CHECK', 'STATUS', 'GC', 'VERSION'];

/** Required variables per verb. CNI_PATH and CNI_ARGS are optional for every verb; CNI_NETNS is optional for DEL. */
export const REQUIRED_ENV: Readonly<Record<Verb, readonly string[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME'],
  // Network-wide verbs (spec 1.1): no attachment. CNI_PATH is not required: ts-dhcp delegates to no plugin.
  STATUS: [],
  GC: [],
  VERSION: [],
};

export interface CniEnv {
  verb: Verb;
  containerId: string;
  ifName: string;
  /** Empty for DEL without CNI_NETNS, and for STATUS, GC and VERSION. */
  netns: string;
  args: string | undefined;
}

// Same rule as libcni's ValidateContainerID.
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

function envError(msg: string, details?: string): CniError {
  return new CniError(CniCode.INVALID_ENVIRONMENT_VARIABLES, msg, details);
}

function isVerb(v: string): v is Verb {
  return (VERBS as readonly string[]).includes(v);
}

/** Reads and validates CNI_COMMAND and the variables its verb needs; an empty variable counts as missing. */
export function readEnv(env: Record<string, string | undefined>): CniEnv {
  const command = env.CNI_COMMAND ?? '';
  if (command === '') throw envError('required env variables [CNI_COMMAND] missing');
  if (!isVerb(command)) throw envError(`unknown CNI_COMMAND: ${command}`, `ts-dhcp supports ${VERBS.join(', ')}`);
  const missing = REQUIRED_ENV[command].filter((name) => !env[name]);
  if (missing.length > 0) throw envError(`required env variables [${missing.join(',')}] missing`);
  const cniEnv: CniEnv = {
    verb: command,
    containerId: env.CNI_CONTAINERID ?? '',
    ifName: env.CNI_IFNAME ?? '',
    netns: env.CNI_NETNS ?? '',
    args: env.CNI_ARGS,
  };
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') validateAttachmentEnv(cniEnv);
  return cniEnv;
}

/** Kept with the lease and shown by the CLI; runtimes use 64 hex digits. */
export const MAX_CONTAINER_ID = 1024;

function validateAttachmentEnv(e: CniEnv): void {
  if (!CONTAINER_ID.test(e.containerId)) throw envError('invalid characters in CNI_CONTAINERID', e.containerId);
  if (e.containerId.length > MAX_CONTAINER_ID)
    throw envError(`CNI_CONTAINERID is longer than ${MAX_CONTAINER_ID} characters`);
  const why = ifNameProblem(e.ifName);
  if (why) throw envError(`CNI_IFNAME ${JSON.stringify(e.ifName)} ${why}`);
}

/** What makes `name` no Linux interface name (IFNAMSIZ - 1 bytes, not "." or "..", no '/', ':' or whitespace, as
 *  libcni checks them), or undefined. */
export function ifNameProblem(name: string): string | undefined {
  return name === ''
    ? 'is empty'
    : Buffer.byteLength(name) > 15
      ? 'is longer than 15 bytes'
      : name === '.' || name === '..'
        ? 'is . or ..'
        : /[/:\s]/.test(name)
          ? 'contains / or : or whitespace'
          : undefined;
}
