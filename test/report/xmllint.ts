// Validate XML against the JUnit XSD with libxml2's xmllint (Debian package libxml2-utils).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/fixture-release.ts';

/** The copy in the repository (so tests never depend on ../shared) and the shared original, when it is there. */
export const junitXsd = path.join(repoRoot, 'schemas', 'junit-10.xsd');
export const sharedJunitXsd = path.join(repoRoot, '..', 'shared', 'schemas', 'junit-10.xsd');

export interface LintResult {
  ok: boolean;
  output: string;
}

export function xmllint(xmlFile: string, xsd = junitXsd): Promise<LintResult> {
  return new Promise((resolve, reject) => {
    execFile('xmllint', ['--noout', '--schema', xsd, xmlFile], { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error('xmllint is missing: apt-get install -y libxml2-utils'));
        return;
      }
      resolve({ ok: !err, output: `${stdout}${stderr}` });
    });
  });
}

/** Validate an XML string (written to a temporary file). */
export async function xmllintText(xml: string, xsd = junitXsd): Promise<LintResult> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'eq-junit-'));
  try {
    const file = path.join(dir, 'junit.xml');
    fs.writeFileSync(file, xml);
    return await xmllint(file, xsd);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
