// The BOOTP broadcast flag of this client's DISCOVERs and REQUESTs (RFC 2131 §4.1): whether servers must broadcast
// their replies because the client cannot receive a unicast to the offered address before it has configured it.

/** Link kinds on which a unicast reply cannot reach an unconfigured client: every ipvlan shares its parent's MAC, and
 *  the parent hands a frame to the ipvlan that owns its destination IP, which no one owns while acquiring. */
const NEEDS_BROADCAST = new Set(['ipvlan']);

/** The flag for a pod link of `linkKind` ('macvlan', 'ipvlan', … or '' when unknown): on by itself where unicast
 *  cannot work, otherwise the network's `broadcast` key, else the daemon's --broadcast. The per-attachment client
 *  identifier (option 61) keeps the leases of pods sharing one MAC apart. */
export function broadcastFlag(linkKind: string, configured: boolean | undefined, daemonDefault: boolean): boolean {
  if (NEEDS_BROADCAST.has(linkKind)) return true;
  return configured ?? daemonDefault;
}
