#!/usr/bin/env node
// Sums the vitest JSON reports (test-results.json) of every workspace package and prints the
// closing line CI reads: `N passed, N failed, N skipped`. A package with a test script but no
// report (its run crashed before reporting) counts as one failure, so nothing fails silently.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
let passed = 0;
let failed = 0;
let skipped = 0;

for (const group of ['packages', 'apps']) {
  const dir = path.join(root, group);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir)) {
    const pkgDir = path.join(dir, name);
    const manifestPath = path.join(pkgDir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (!manifest.scripts?.test) continue;
    const reportPath = path.join(pkgDir, 'test-results.json');
    if (!existsSync(reportPath)) {
      process.stderr.write(`${manifest.name}: no test report (the test run did not finish)\n`);
      failed += 1;
      continue;
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    passed += report.numPassedTests ?? 0;
    failed += report.numFailedTests ?? 0;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A file that failed to load has no tests in it but is a failure all the same.
    const brokenFiles = (report.testResults ?? []).filter((file) => file.status === 'failed' && (file.assertionResults ?? []).length === 0).length;
    failed += brokenFiles;
    process.stderr.write(`${manifest.name}: ${report.numPassedTests} passed, ${report.numFailedTests} failed${brokenFiles ? `, ${brokenFiles} file(s) failed to run` : ''}\n`);
  }
}
process.stdout.write(`${passed} passed, ${failed} failed, ${skipped} skipped\n`);
process.exit(failed > 0 ? 1 : 0);
