// Channel (daemon/pod-port.ts) over a UDP socket created in the pod netns and bound to localIp:68 on the device, for
// unicast RENEW and RELEASE from the leased address. dgram owns the descriptor and receives; sends are synchronous
// sendto calls on the same descriptor, because the Channel contract throws send errors at the caller and dgram
// reports them later.
import * as dgram from 'node:dgram';
import { closeSync } from 'node:fs';

import { SERVER_PORT } from '../dhcp/types';
import type { OpenChannel } from '../pod-port';
import { netnsError, openUdp, udpSend } from './netns';

export const openUdpChannel: OpenChannel = async (netns, ifName, localIp, onReceive) => {
  const fd = await openUdp(netns, ifName, localIp);
  const socket = dgram.createSocket('udp4');
  try {
    socket.bind({ fd });
  } catch (e) {
    closeSync(fd); // bind({ fd }) failed before the handle took the descriptor
    socket.close();
    throw e;
  }
  socket.on('message', (payload, rinfo) => {
    if (rinfo.port === SERVER_PORT) onReceive({ payload, srcIp: rinfo.address, dstIp: localIp });
  });
  // Receive errors have nobody to go to: a lost reply is a retransmission for the driver.
  socket.on('error', () => {});
  let closed = false;
  return {
    send(payload, dstIp) {
      // The descriptor number may belong to another socket once dgram has closed it.
      if (closed) throw netnsError('send', netns, ifName, 'EBADF', 'socket is closed');
      udpSend(fd, payload, dstIp, SERVER_PORT, netns, ifName);
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
};
