// What an ADD does with the leases its attachment already holds (a repeated ADD, or one after a restart that took
// them over from their records), family by family, from what the config asks for now. The daemon then holds what
// ADD's result says: a family asked for is joined while its runner goes on in the same netns, else started; a
// family no longer asked for is withdrawn (released, its address off the pod's interface, which keeps no address the
// server may give to another). A lease held in another netns is stale (the sandbox went without DEL) and released.

/** A held runner, of either family, as the plan needs it. */
export interface HeldRunner {
  readonly params: { netns: string };
  /** False once it gave up (resend timeout), was released or stopped. */
  readonly active: boolean;
}

export interface AddPlan<R4, R6> {
  /** Runners ADD waits for as they are. */
  join4?: R4;
  join6?: R6;
  /** Families to start a runner for. */
  start4: boolean;
  start6: boolean;
  /** Out of the table and released: stale (another netns), or stopped already. */
  release: (R4 | R6)[];
  /** Out of the table, released and its address taken off the interface: a family the config no longer asks for. */
  withdraw: (R4 | R6)[];
}

export function planAdd<R4 extends HeldRunner, R6 extends HeldRunner>(
  held: { runner?: R4; runner6?: R6 },
  p: { netns: string; ipv4?: boolean; ipv6?: boolean },
): AddPlan<R4, R6> {
  const plan: AddPlan<R4, R6> = { start4: false, start6: false, release: [], withdraw: [] };
  const one = <R extends R4 | R6>(r: R | undefined, wanted: boolean): R | undefined => {
    const going = r !== undefined && r.active && r.params.netns === p.netns;
    if (going && wanted) return r;
    if (going) plan.withdraw.push(r);
    else if (r !== undefined) plan.release.push(r);
    return undefined;
  };
  plan.join4 = one(held.runner, p.ipv4 !== false);
  plan.join6 = one(held.runner6, p.ipv6 === true);
  plan.start4 = p.ipv4 !== false && plan.join4 === undefined;
  plan.start6 = p.ipv6 === true && plan.join6 === undefined;
  return plan;
}
