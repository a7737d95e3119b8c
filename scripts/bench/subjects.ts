// The two implementations under test, each behind the same face: a daemon (by PID) on a topology of its own, the
// macvlan network config that points at it, and the IPAM plugin binary the runtime would exec.
import * as fs from 'node:fs';
import {
  CNI_BIN_DIR,
  REFERENCE_DHCP,
  macvlanConfig,
  startReferenceDaemon,
  startTsDaemon,
  tsDhcpCniPath,
  type Topology,
} from '../../test/netns/lib';
import { installedPlugin } from '../../test/helpers/native-plugin';

export type SubjectName = 'ts-dhcp' | 'reference';

export interface Subject {
  name: SubjectName;
  pid: number;
  /** The macvlan network config with this implementation as IPAM. */
  netConf: object;
  /** CNI_PATH, where the macvlan plugin finds the IPAM plugin. */
  cniPath: string[];
  /** The IPAM plugin itself (ts-dhcp: the native plugin as `ts-dhcp install` installs it), timed without macvlan. */
  ipamBinary: string;
}

export function referenceAvailable(): boolean {
  return fs.existsSync(REFERENCE_DHCP);
}

export async function startSubject(name: SubjectName, topo: Topology): Promise<Subject> {
  if (name === 'ts-dhcp') {
    // The shipped default log level: debug lines for every packet would be the benchmark's own overhead.
    const daemon = await startTsDaemon(topo, { args: ['--log-level', 'info'] });
    // Like for like with the reference, which never probes: conflict detection off here; its own section of the
    // bench (scripts/bench/conflict.ts) prints ADD with the default setting beside this figure.
    const netConf = macvlanConfig(topo, daemon, { conflictDetection: 'off' });
    return { name, pid: daemon.pid, netConf, cniPath: tsDhcpCniPath(), ipamBinary: installedPlugin() };
  }
  const ref = await startReferenceDaemon(topo);
  return {
    name,
    pid: ref.pid,
    netConf: {
      cniVersion: '1.0.0',
      name: 'lan',
      type: 'macvlan',
      master: topo.nodeNic,
      mode: 'bridge',
      ipam: ref.ipam,
    },
    cniPath: [CNI_BIN_DIR],
    ipamBinary: REFERENCE_DHCP,
  };
}
