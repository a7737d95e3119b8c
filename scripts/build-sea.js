#!/usr/bin/env node
'use strict';
// Builds dist/sea/ts-dhcp: the CNI plugin and the CLI (leases, status, install, version) as one self-contained
// executable (Node's single executable applications), for nodes without Node.js. A SEA can require only Node's
// built-in modules, so the code is bundled first; the daemon (native addon, pino) stays out: it runs from the
// Node installation. Usage: npm run build:sea (after tsc).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const esbuild = require('esbuild');

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist/sea');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

// `ts-dhcp daemon` from the SEA: say where the daemon lives instead of failing to load it.
const noDaemon = {
  name: 'no-daemon',
  setup(build) {
    build.onResolve({ filter: /\/daemon\/main$/ }, (args) => ({ path: args.path, namespace: 'no-daemon' }));
    build.onLoad({ filter: /.*/, namespace: 'no-daemon' }, () => ({
      contents:
        'exports.runDaemon = async () => { process.stderr.write("ts-dhcp daemon: this self-contained ts-dhcp is the CNI plugin and CLI only; ' +
        'run the daemon from a Node.js installation of ts-dhcp (bin/ts-dhcp daemon, or the container image)\\n"); return 2; };',
      loader: 'js',
    }));
  },
};

async function main() {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const bundle = path.join(OUT, 'ts-dhcp.js');
  const result = await esbuild.build({
    stdin: { contents: "require('./dist/client/main.js').main();", resolveDir: ROOT, sourcefile: 'sea-entry.js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: bundle,
    plugins: [noDaemon],
    metafile: true,
    logLevel: 'warning',
  });
  // The plugin path must stay light: no package from node_modules, no native addon.
  const heavy = Object.keys(result.metafile.inputs).filter((f) => f.includes('node_modules') || f.endsWith('.node'));
  if (heavy.length > 0) throw new Error(`the SEA bundle pulled in ${heavy.join(', ')}`);

  const blob = path.join(OUT, 'sea-prep.blob');
  const config = path.join(OUT, 'sea-config.json');
  fs.writeFileSync(config, JSON.stringify({ main: bundle, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }, null, 2));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'inherit' });

  const exe = path.join(OUT, 'ts-dhcp');
  fs.copyFileSync(process.execPath, exe);
  fs.chmodSync(exe, 0o755);
  execFileSync(process.execPath, [require.resolve('postject/dist/cli.js'), exe, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', FUSE], { stdio: 'inherit' });
  for (const f of [blob, config]) fs.rmSync(f);
  process.stdout.write(`built ${path.relative(ROOT, exe)}\n`);
}

main().catch((err) => {
  process.stderr.write(`build-sea: ${err.message}\n`);
  process.exit(1);
});
