// What a repeated ADD does with the leases its attachment holds (daemon/add-plan.ts), family by family.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planAdd } from '../../daemon/add-plan';

const runner = (name: string, netns = '/run/netns/a', active = true) => ({ name, params: { netns }, active });

test('nothing held: a runner is started for each family the config asks for', () => {
  assert.deepEqual(planAdd({}, { netns: '/run/netns/a' }), {
    join4: undefined,
    join6: undefined,
    start4: true,
    start6: false,
    release: [],
    withdraw: [],
  });
  const both = planAdd({}, { netns: '/run/netns/a', ipv6: true });
  assert.deepEqual([both.start4, both.start6], [true, true]);
  const only6 = planAdd({}, { netns: '/run/netns/a', ipv4: false, ipv6: true });
  assert.deepEqual([only6.start4, only6.start6], [false, true]);
});

test('a held family still asked for is joined; a missing one started; one no longer asked for withdrawn', () => {
  const r4 = runner('v4');
  const r6 = runner('v6');
  const joinBoth = planAdd({ runner: r4, runner6: r6 }, { netns: '/run/netns/a', ipv6: true });
  assert.deepEqual(joinBoth, { join4: r4, join6: r6, start4: false, start6: false, release: [], withdraw: [] });
  const add6 = planAdd({ runner: r4 }, { netns: '/run/netns/a', ipv6: true });
  assert.deepEqual(add6, { join4: r4, join6: undefined, start4: false, start6: true, release: [], withdraw: [] });
  const add4 = planAdd({ runner6: r6 }, { netns: '/run/netns/a', ipv6: true });
  assert.deepEqual([add4.start4, add4.join6], [true, r6]);
  const drop6 = planAdd({ runner: r4, runner6: r6 }, { netns: '/run/netns/a' });
  assert.deepEqual([drop6.join4, drop6.start6, drop6.withdraw], [r4, false, [r6]]);
  const drop4 = planAdd({ runner: r4, runner6: r6 }, { netns: '/run/netns/a', ipv4: false, ipv6: true });
  assert.deepEqual([drop4.join6, drop4.start4, drop4.withdraw], [r6, false, [r4]]);
});

test('a runner that gave up is replaced; leases held in another netns are stale: released, both started anew', () => {
  const gaveUp = runner('v4', '/run/netns/a', false);
  const r6 = runner('v6');
  const plan = planAdd({ runner: gaveUp, runner6: r6 }, { netns: '/run/netns/a', ipv6: true });
  assert.deepEqual([plan.start4, plan.join6, plan.release], [true, r6, [gaveUp]]);
  const old4 = runner('v4', '/run/netns/old');
  const old6 = runner('v6', '/run/netns/old');
  const moved = planAdd({ runner: old4, runner6: old6 }, { netns: '/run/netns/a', ipv6: true });
  assert.deepEqual(moved, {
    join4: undefined,
    join6: undefined,
    start4: true,
    start6: true,
    release: [old4, old6],
    withdraw: [],
  });
});
