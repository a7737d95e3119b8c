#!/usr/bin/env node
'use strict';
// Checks that every program of the DEPS table in scripts/install-deps.sh (the list it installs from) can be
// executed, and names each missing one with its Debian package. The first step of `npm test`; also runnable alone:
//   node scripts/preflight.js [FILE]      exit 0: all present; 1: something missing (listed on stderr)
// FILE: install-deps.sh (the default), or a plain list of "PROGRAM PACKAGE" lines.

const fs = require('node:fs');
const path = require('node:path');

const DEPS = path.join(__dirname, 'install-deps.sh');

/** The lines of the file's DEPS here-document with every other line blanked (line numbers stay the file's); a file
 *  without one is a plain list. */
function depsLines(text) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => /<<'DEPS'/.test(l));
  if (start < 0) return lines;
  const end = lines.indexOf('DEPS', start + 1);
  return lines.map((l, i) => (i > start && i < end ? l : ''));
}

/** The list's entries: { program, pkg, line }; program is null for a package with no program to check. */
function parseDeps(text, file = DEPS) {
  const entries = [];
  depsLines(text).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const fields = line.split(/\s+/);
    if (fields.length !== 2)
      throw new Error(`${file}:${i + 1}: expected "PROGRAM PACKAGE", got ${JSON.stringify(raw)}`);
    const [program, pkg] = fields;
    entries.push({ program: program === '-' ? null : program, pkg, line: i + 1 });
  });
  return entries;
}

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Where `program` resolves, as execve(2) via PATH would find it; undefined when it does not. */
function which(program, searchPath = process.env.PATH ?? '') {
  if (program.includes('/')) return isExecutable(program) ? program : undefined;
  for (const dir of searchPath.split(':')) {
    const candidate = path.join(dir || '.', program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Entries whose program cannot be executed. */
function missing(entries, searchPath) {
  return entries.filter((e) => e.program !== null && which(e.program, searchPath) === undefined);
}

function report(gone) {
  const pkgs = [...new Set(gone.map((e) => e.pkg))];
  return [
    `preflight: ${gone.length} program(s) missing:`,
    ...gone.map((e) => `  ${e.program}  (Debian package ${e.pkg})`),
    `install them with scripts/install-deps.sh (as root), or: apt-get install ${pkgs.join(' ')}`,
  ].join('\n');
}

/** 0 when everything in the list is there; otherwise prints the report to stderr and returns 1. */
function preflight(file = DEPS, searchPath = process.env.PATH) {
  const gone = missing(parseDeps(fs.readFileSync(file, 'utf8'), file), searchPath);
  if (gone.length === 0) return 0;
  process.stderr.write(`${report(gone)}\n`);
  return 1;
}

module.exports = { DEPS, parseDeps, which, missing, report, preflight };

if (require.main === module) process.exit(preflight(process.argv[2]));
