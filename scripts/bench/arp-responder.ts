// A LAN device that answers ARP probes for its address late: `node arp-responder.js IFNAME ADDRESS DELAY_MS`, run
// inside the device's netns, whose kernel does not have the address (so only this answers). Stands in for what a
// namespace LAN cannot show: a Wi-Fi device whose access point holds broadcasts until the next DTIM beacon
// (100-300 ms), a device waking from sleep. Prints "ready" once listening; answers every probe, DELAY_MS later.
import { ArpOp, decodeArp, encodeArp } from '../../daemon/dhcp/arp';
import { ZERO_IP } from '../../daemon/dhcp/bytes';
import { openArp } from '../../daemon/transport/netns';

async function main(): Promise<void> {
  const [ifName, address, delay] = process.argv.slice(2);
  const delayMs = Number(delay);
  if (!ifName || !address || !Number.isFinite(delayMs) || delayMs < 0)
    throw new Error('usage: arp-responder IFNAME ADDRESS DELAY_MS');
  const socket = await openArp('/proc/self/ns/net', ifName, address);
  socket.onMessage((b) => {
    const probe = decodeArp(b);
    if (!probe || probe.op !== ArpOp.REQUEST || probe.senderIp !== ZERO_IP || probe.targetIp !== address) return;
    const answer = {
      op: ArpOp.REPLY,
      senderMac: socket.mac,
      senderIp: address,
      targetMac: probe.senderMac,
      targetIp: ZERO_IP,
    };
    setTimeout(() => socket.send(encodeArp(answer)), delayMs);
  });
  process.stdout.write('ready\n');
}

main().catch((err: Error) => {
  process.stderr.write(`arp-responder: ${err.message}\n`);
  process.exit(1);
});
