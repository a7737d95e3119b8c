import { runCni, type Topology } from '../../test/netns/lib';

/** The floor under any IPAM plugin on this machine, measured through the same harness: the macvlan plugin with the
 *  trivial `static` IPAM, on another interface (eth2) of the same pods, at another address of the LAN. */
export class Floor {
  constructor(private readonly topo: Topology) {}

  async cni(command: 'ADD' | 'DEL', pod: number): Promise<number> {
    const config = {
      cniVersion: '1.0.0',
      name: 'floor',
      type: 'macvlan',
      master: this.topo.nodeNic,
      mode: 'bridge',
      // Below the DHCP range, which starts at offset 256 of the LAN (scripts/bench.ts RANGE).
      ipam: {
        type: 'static',
        addresses: [{ address: `${this.topo.lanAddress(10 + pod)}/${this.topo.lanPrefixLength}` }],
      },
    };
    const out = await runCni(this.topo, {
      command,
      containerId: `floor-${pod}`,
      podIndex: pod,
      ifName: 'eth2',
      config,
    });
    if (out.code !== 0) throw new Error(`macvlan with static IPAM: ${command} failed: ${out.stdout}${out.stderr}`);
    return out.durationMs;
  }
}
