/** Parse every document of a manifest with source ranges kept; any YAML error stops the edit. */
import { parseAllDocuments, type Document } from 'yaml';
import { ManifestInvalid } from './errors.js';

export type ManifestDocument = Document.Parsed;

/**
 * All documents of `text` (`---` separated). Duplicate keys are errors (`uniqueKeys`), because a path
 * that matches a key twice would be ambiguous; warnings (unknown tags) are tolerated.
 */
export function parseManifest(text: string): ManifestDocument[] {
  const parsed = parseAllDocuments(text, { uniqueKeys: true, prettyErrors: true });
  const docs = Array.isArray(parsed) ? parsed : [];
  const problems = docs.flatMap((d) => d.errors.map((e) => e.message.split('\n')[0]!));
  if (problems.length > 0) throw new ManifestInvalid(problems);
  return docs;
}

/** `where` for messages: prefixed with the document number when the file has several. */
export function describeIn(docs: readonly unknown[], index: number, where: string): string {
  return docs.length > 1 ? `document ${index + 1}: ${where}` : where;
}
