// A DHCP server reply built field by field for unit tests: the BOOTP header every test would otherwise spell out.
import { BOOTREPLY, DhcpMessage } from '../../daemon/dhcp/types';

export function reply(fields: Partial<DhcpMessage> = {}): DhcpMessage {
  return {
    op: BOOTREPLY,
    htype: 1,
    hlen: 6,
    hops: 0,
    xid: 1,
    secs: 0,
    flags: 0,
    ciaddr: '0.0.0.0',
    yiaddr: '0.0.0.0',
    siaddr: '0.0.0.0',
    giaddr: '0.0.0.0',
    chaddr: Buffer.alloc(6),
    sname: '',
    file: '',
    options: new Map(),
    ...fields,
  };
}
