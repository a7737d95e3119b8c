import type { Topology } from '../../test/netns/lib';
import { execTimes } from './exectime';
import type { SubjectResult } from './scenarios';
import { distribution, type Distribution } from './stats';
import type { Subject } from './subjects';

/** The plugin alone (no macvlan, no `ip netns exec`), run `runs` times by the C timer: VERSION, and ADD of a lease
 *  the daemon holds already (pod 1 holds hold-1), which adds one round trip to the daemon answered from memory. */
export async function pluginAlone(
  topo: Topology,
  subject: Subject,
  runs: number,
  errors: string[],
): Promise<SubjectResult['startup']> {
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', CNI_PATH: subject.cniPath.join(':') };
  const timed = async (what: string, cniEnv: Record<string, string>, stdin: object): Promise<Distribution> => {
    try {
      return distribution(await execTimes(subject.ipamBinary, runs, { ...env, ...cniEnv }, JSON.stringify(stdin)));
    } catch (err) {
      errors.push(`${what} (plugin alone): ${(err as Error).message.slice(0, 300)}`);
      return distribution([]);
    }
  };
  const version = await timed('VERSION', { CNI_COMMAND: 'VERSION' }, { cniVersion: '1.0.0' });
  const addHeld = await timed(
    'ADD hold-1',
    { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'hold-1', CNI_NETNS: topo.netnsPath(1), CNI_IFNAME: 'eth1' },
    subject.netConf,
  );
  return { version, addHeld };
}
