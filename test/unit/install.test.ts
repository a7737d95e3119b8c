// `ts-dhcp install` / `uninstall` into temporary roots; the installed units pass `systemd-analyze verify` and are
// hardened as the issue asks.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test, TestContext } from 'node:test';
import {
  DAEMON_NODE_FLAGS,
  daemonCommand,
  install,
  parseInstallArgs,
  serviceUnit,
  thisInstallation,
  uninstall,
  type InstallOptions,
} from '../../client/install';

const REPO = resolve(__dirname, '../../..');
const BIN = join(REPO, 'bin/ts-dhcp');

// /var/tmp, not /tmp: systemd-analyze verify of a unit with PrivateTmp= must not resolve the executable under /tmp.
function tempRoot(t: TestContext): string {
  const dir = mkdtempSync('/var/tmp/ts-dhcp-install-');
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function opts(over: Partial<InstallOptions>): InstallOptions {
  const o = parseInstallArgs([]);
  assert.ok(!(o instanceof Error));
  return { ...o, ...over };
}

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env });
}

test("install into a root: the native plugin, byte for byte; the unit runs this installation's daemon; idempotent", (t) => {
  const root = tempRoot(t);
  const first = cli(['install', '--root', root, '--systemd']);
  assert.equal(first.status, 0, first.stderr);
  // A checkout under /tmp, /home or /root adds a warning line (the hardened unit cannot see it): not our concern here.
  const lines = (out: string) =>
    out
      .trim()
      .split('\n')
      .filter((l) => !l.startsWith('warning: '));
  assert.deepEqual(lines(first.stdout), [
    'installed  /opt/cni/bin/ts-dhcp',
    'installed  /etc/systemd/system/ts-dhcp.socket',
    'installed  /etc/systemd/system/ts-dhcp.service',
  ]);
  const exe = join(root, 'opt/cni/bin/ts-dhcp');
  assert.equal(statSync(exe).mode & 0o777, 0o755);
  assert.ok(readFileSync(exe).equals(readFileSync(thisInstallation().plugin)));
  assert.equal(readFileSync(exe).subarray(0, 4).toString('latin1'), '\x7fELF');
  const service = readFileSync(join(root, 'etc/systemd/system/ts-dhcp.service'), 'utf8');
  assert.ok(
    service.includes(
      `\nExecStart=${process.execPath} --max-semi-space-size=1 --lite-mode --no-expose-wasm --expose-gc ${BIN} daemon --socket-path /run/cni/ts-dhcp.sock `,
    ),
    service,
  );

  const again = cli(['install', '--root', root, '--systemd']);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(
    lines(again.stdout).map((l) => l.split(/\s+/)[0]),
    ['unchanged', 'unchanged', 'unchanged'],
  );

  // The runtime's minimal environment: no PATH at all.
  const run = spawnSync(exe, [], {
    encoding: 'utf8',
    env: { CNI_COMMAND: 'VERSION' },
    input: '{"cniVersion":"1.0.0"}',
  });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(JSON.parse(run.stdout).cniVersion, '1.0.0');
});

test('a changed plugin is updated; uninstall removes what install wrote and keeps what it did not', (t) => {
  const root = tempRoot(t);
  const o = opts({ root, cniBinDir: '/usr/libexec/cni', systemd: true });
  assert.equal(install(o).code, 0);
  const exe = join(root, 'usr/libexec/cni/ts-dhcp');
  writeFileSync(exe, '#!/bin/sh\nexec old "$@"\n');
  assert.deepEqual(install(o).lines.slice(0, 1), ['updated  /usr/libexec/cni/ts-dhcp']);

  const foreign = join(root, 'etc/systemd/system/ts-dhcp.socket');
  writeFileSync(foreign, '[Socket]\nListenStream=/elsewhere\n');
  const un = uninstall(o);
  assert.equal(un.code, 1);
  assert.deepEqual(un.lines, [
    'removed    /usr/libexec/cni/ts-dhcp',
    'kept       /etc/systemd/system/ts-dhcp.socket: not what this installation wrote (--force removes it)',
    'removed    /etc/systemd/system/ts-dhcp.service',
  ]);
  assert.ok(!existsSync(exe));
  assert.ok(existsSync(foreign));
  assert.deepEqual(uninstall({ ...o, force: true }).lines, ['removed    /etc/systemd/system/ts-dhcp.socket']);
  assert.deepEqual(uninstall(o), { lines: ['nothing to remove'], code: 0 });
});

test('without a built native plugin, install says how to build it', (t) => {
  const root = tempRoot(t);
  const missing = install(opts({ root }), { ...thisInstallation(), plugin: join(root, 'no-such-plugin') });
  assert.equal(missing.code, 1);
  assert.match(missing.lines[0] as string, /no native plugin at .*no-such-plugin: build it with "npm run build"/);
});

test('arguments: absolute paths only, unknown flags named', () => {
  assert.match(String(parseInstallArgs(['--cni-bin-dir', 'bin'])), /absolute path/);
  assert.match(String(parseInstallArgs(['--root'])), /needs a value/);
  assert.match(String(parseInstallArgs(['--bogus'])), /unknown argument "--bogus"/);
  assert.deepEqual(parseInstallArgs(['--cni-bin-dir=/x', '--systemd', '--unit-dir', '/u']), {
    cniBinDir: '/x',
    systemd: true,
    unitDir: '/u',
    root: '/',
    force: false,
  });
  assert.match(
    serviceUnit('[Service]\nExecStart=/usr/local/bin/ts-dhcp daemon -x\n', '/usr/bin/node /opt/ts-dhcp/bin/ts-dhcp'),
    /^ExecStart=\/usr\/bin\/node \/opt\/ts-dhcp\/bin\/ts-dhcp daemon -x$/m,
  );
  const spaced = daemonCommand({
    ...thisInstallation(),
    nodePath: '/opt/my node/node',
    entryScript: '/opt/a"b/bin/ts-dhcp',
  });
  assert.equal(
    spaced,
    '"/opt/my node/node" --max-semi-space-size=1 --lite-mode --no-expose-wasm --expose-gc "/opt/a\\"b/bin/ts-dhcp"',
  );
});

test("the image's ENTRYPOINT starts node with DAEMON_NODE_FLAGS, as the installed unit does", () => {
  const containerfile = readFileSync(join(REPO, 'deploy/Containerfile'), 'utf8');
  const entry = /^ENTRYPOINT (\[.*\])$/m.exec(containerfile)?.[1];
  assert.ok(entry, 'an ENTRYPOINT in exec form');
  const argv = JSON.parse(entry) as string[];
  assert.deepEqual(argv, ['/usr/local/bin/node', ...DAEMON_NODE_FLAGS, '/opt/ts-dhcp/bin/ts-dhcp']);
});

test('bin/ts-dhcp run by its #! line starts node with DAEMON_NODE_FLAGS', () => {
  const shebang = readFileSync(BIN, 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${DAEMON_NODE_FLAGS.join(' ')}`);
  const r = spawnSync(BIN, ['version'], {
    encoding: 'utf8',
    env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` },
  });
  assert.equal(r.status, 0, r.stderr);
});

/** KEY=VALUE lines of a unit file (the last wins, as for systemd's non-list settings). */
function directives(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\n')) {
    const kv = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (kv) m.set(kv[1] as string, kv[2] as string);
  }
  return m;
}

test('the installed units pass systemd-analyze verify; the shipped ones point at a path that must be rewritten', (t) => {
  const root = tempRoot(t);
  const bin = join(root, 'bin');
  const units = join(root, 'units');
  mkdirSync(units);
  const r = cli(['install', '--cni-bin-dir', bin, '--unit-dir', units, '--systemd']);
  assert.equal(r.status, 0, r.stderr);
  const verify = spawnSync('systemd-analyze', ['verify', './ts-dhcp.socket', './ts-dhcp.service'], {
    cwd: units,
    encoding: 'utf8',
  });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', 'no warnings either');
  // Before install the ExecStart path does not exist here: verify notices, so the check above means something.
  const shipped = spawnSync('systemd-analyze', ['verify', './ts-dhcp.socket', './ts-dhcp.service'], {
    cwd: join(REPO, 'systemd'),
    encoding: 'utf8',
  });
  if (!existsSync('/usr/local/bin/ts-dhcp')) assert.match(shipped.stderr, /ts-dhcp is not executable/);
});

test('the service is hardened: exactly the capabilities it needs, read-only system, restart on failure', () => {
  const service = directives(readFileSync(join(REPO, 'systemd/ts-dhcp.service'), 'utf8'));
  // setns (CAP_SYS_ADMIN), AF_PACKET + SO_BINDTODEVICE (CAP_NET_RAW), link up (CAP_NET_ADMIN), port 68
  // (CAP_NET_BIND_SERVICE).
  assert.deepEqual(service.get('CapabilityBoundingSet')?.split(/\s+/).sort(), [
    'CAP_NET_ADMIN',
    'CAP_NET_BIND_SERVICE',
    'CAP_NET_RAW',
    'CAP_SYS_ADMIN',
  ]);
  const want: Record<string, string> = {
    NoNewPrivileges: 'yes',
    ProtectSystem: 'strict',
    ProtectHome: 'yes',
    PrivateTmp: 'yes',
    StateDirectory: 'ts-dhcp',
    RuntimeDirectory: 'ts-dhcp',
    SystemCallArchitectures: 'native',
    Restart: 'on-failure',
    RestrictNamespaces: 'net',
  };
  for (const [k, v] of Object.entries(want)) assert.equal(service.get(k), v, k);
  assert.deepEqual(
    service.get('RestrictAddressFamilies')?.split(/\s+/).sort(),
    ['AF_INET', 'AF_INET6', 'AF_NETLINK', 'AF_PACKET', 'AF_UNIX'],
    'AF_INET6 for an IPv6 --metrics-address',
  );
  const socket = directives(readFileSync(join(REPO, 'systemd/ts-dhcp.socket'), 'utf8'));
  assert.equal(socket.get('SocketMode'), '0600');
  assert.equal(socket.get('RemoveOnStop'), 'true');
  assert.equal(socket.get('ListenStream'), '/run/cni/ts-dhcp.sock');
  assert.match(service.get('ExecStart') as string, /--socket-path \/run\/cni\/ts-dhcp\.sock/);
});
