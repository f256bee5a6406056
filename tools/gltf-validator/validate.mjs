// Validate GLB files with the Khronos glTF validator and print one JSON report on stdout.
//
// Usage: node tools/gltf-validator/validate.mjs FILE.glb [FILE.glb ...]
//
// Output: {"validatorVersion": "...", "files": {"<path as given>": {"numErrors": n,
// "numWarnings": n, "numInfos": n, "numHints": n, "truncated": bool, "messages": [...],
// "totalTriangleCount": n}}}. One process checks every file, so callers spawn it once.
// Exit status: 0 when every file was read and validated (whatever it reported), 2 on usage
// errors or when a file could not be read or parsed at all.

import { readFile } from 'node:fs/promises';
import path from 'node:path';

import validator from 'gltf-validator';

async function validateFile(file) {
  const bytes = new Uint8Array(await readFile(file));
  const report = await validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 100,
    // A GLB is self-contained; refuse to follow any external URI instead of reading the disk.
    externalResourceFunction: (uri) => Promise.reject(new Error(`external resource ${uri}`)),
  });
  const issues = report.issues;
  return {
    numErrors: issues.numErrors,
    numWarnings: issues.numWarnings,
    numInfos: issues.numInfos,
    numHints: issues.numHints,
    truncated: issues.truncated,
    messages: issues.messages.map(({ code, message, severity, pointer }) => ({
      code,
      message,
      severity,
      pointer: pointer ?? null,
    })),
    totalTriangleCount: report.info?.totalTriangleCount ?? null,
  };
}

async function main(files) {
  if (files.length === 0) {
    process.stderr.write('usage: node validate.mjs FILE.glb [FILE.glb ...]\n');
    return 2;
  }
  const out = { validatorVersion: validator.version(), files: {} };
  let failed = false;
  for (const file of files) {
    try {
      out.files[file] = await validateFile(file);
    } catch (error) {
      // The validator rejects with a string when it cannot even detect the format.
      process.stderr.write(`${file}: ${error instanceof Error ? error.message : String(error)}\n`);
      failed = true;
    }
  }
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return failed ? 2 : 0;
}

process.exitCode = await main(process.argv.slice(2));
