// A CNI invocation as the native plugin forwards it to the daemon's `cni` method (common/rpc.ts CniInvocation): the
// CNI_* variables, the config and the working directory, each as base64 of its bytes. For tests that talk to the
// daemon's socket directly, as any local client could.
import type { CniInvocation, CniOutput } from '../../common/rpc';

const b64 = (s: string) => Buffer.from(s).toString('base64');

export function cniInvocation(env: Record<string, string>, config: object | string, cwd = '/'): CniInvocation {
  return {
    env: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, b64(v)])),
    stdin: b64(typeof config === 'string' ? config : JSON.stringify(config)),
    cwd: b64(cwd),
  };
}

/** What the plugin would print, parsed (a CNI result or error object), with its exit code. */
export interface CniAnswer {
  exitCode: number;
  json: ({ code?: number; msg?: string; ips?: { address: string }[] } & Record<string, unknown>) | undefined;
}

export function cniAnswer(out: CniOutput): CniAnswer {
  return { exitCode: out.exitCode, json: out.stdout === '' ? undefined : JSON.parse(out.stdout) };
}
