// Secrets come by reference only: `{env: NAME}` or `{file: PATH}`. A profile never holds a password or key itself,
// so profiles can be committed and shared, and nothing secret reaches logs or reports.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../errors.ts';

export type SecretRef = { env: string } | { file: string };

const INLINE = 'an inline secret is not allowed here: use {env: NAME} or {file: PATH}';

export const secretRefSchema = z
  .unknown()
  .superRefine((v, ctx) => {
    if (typeof v === 'string' || typeof v === 'number') {
      ctx.addIssue({ code: 'custom', message: INLINE });
      return;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: 'must be a secret reference: {env: NAME} or {file: PATH}' });
      return;
    }
    const keys = Object.keys(v);
    const o = v as Record<string, unknown>;
    if (keys.length !== 1 || !(keys[0] === 'env' || keys[0] === 'file') || typeof o[keys[0]] !== 'string' || o[keys[0]] === '') {
      ctx.addIssue({ code: 'custom', message: 'must be exactly one of {env: NAME} or {file: PATH}' });
    }
  })
  .transform((v) => v as SecretRef);

/** Resolve a secret at the moment it is used. `baseDir` resolves relative file references (the profile's folder). */
export function resolveSecret(ref: SecretRef, field: string, baseDir = process.cwd()): string {
  if ('env' in ref) {
    const v = process.env[ref.env];
    if (v === undefined || v === '') throw new ConfigError(`${field}: environment variable ${ref.env} is not set`, { where: field });
    return v;
  }
  const file = path.resolve(baseDir, ref.file);
  try {
    return fs.readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (e) {
    throw new ConfigError(`${field}: cannot read secret file ${file}: ${(e as Error).message}`, { where: field });
  }
}

/** Where a secret comes from, for logs: never its value. */
export function describeSecret(ref: SecretRef): string {
  return 'env' in ref ? `$${ref.env}` : `file ${ref.file}`;
}
