// Typed views of the raw options of a DhcpMessage (RFC 2132). Accessors return undefined for an option that is
// absent or malformed, so one bad option never spoils the rest of a message.
import { bytesToIp } from './bytes';
import { DhcpMessage, Opt } from './types';

function fixed(msg: DhcpMessage, code: number, len: number): Buffer | undefined {
  const v = msg.options.get(code);
  return v && v.length === len ? v : undefined;
}

function ipOption(msg: DhcpMessage, code: number): string | undefined {
  const v = fixed(msg, code, 4);
  return v && bytesToIp(v);
}

function u32Option(msg: DhcpMessage, code: number): number | undefined {
  return fixed(msg, code, 4)?.readUInt32BE(0);
}

export function messageType(msg: DhcpMessage): number | undefined {
  return fixed(msg, Opt.MESSAGE_TYPE, 1)?.[0];
}

export function serverId(msg: DhcpMessage): string | undefined {
  return ipOption(msg, Opt.SERVER_ID);
}

export function requestedIp(msg: DhcpMessage): string | undefined {
  return ipOption(msg, Opt.REQUESTED_IP);
}

export function subnetMask(msg: DhcpMessage): string | undefined {
  return ipOption(msg, Opt.SUBNET_MASK);
}

export function leaseTimeS(msg: DhcpMessage): number | undefined {
  return u32Option(msg, Opt.LEASE_TIME);
}

export function renewalTimeS(msg: DhcpMessage): number | undefined {
  return u32Option(msg, Opt.RENEWAL_TIME);
}

export function rebindingTimeS(msg: DhcpMessage): number | undefined {
  return u32Option(msg, Opt.REBINDING_TIME);
}
