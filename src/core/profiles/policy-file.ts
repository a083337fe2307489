import { readFile } from 'node:fs/promises';
import type { z } from 'zod';
import { policyDocumentSchema, type PolicyDocument } from '../../shared/policy-schema.js';

/** A policy file that cannot be used: names the file, the path inside it and what is wrong. */
export class PolicyFileError extends Error {
  override readonly name = 'PolicyFileError';
}

export async function loadPolicyFile(file: string): Promise<PolicyDocument> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new PolicyFileError(`policy file ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return parsePolicyText(text, file);
}

export function parsePolicyText(text: string, file: string): PolicyDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new PolicyFileError(`policy file ${file}: not valid JSON (${(e as Error).message})`);
  }
  const parsed = policyDocumentSchema.safeParse(json);
  if (!parsed.success) throw new PolicyFileError(`policy file ${file}: ${describeIssues(parsed.error)}`);
  return parsed.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? formatPath(i.path) : '(root)'}: ${i.message}`)
    .join('; ');
}

function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>((acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${String(seg)}` : String(seg)), '');
}
