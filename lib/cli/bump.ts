/**
 * `fjord bump <file> --tag T [selector] [--in-place]`: the worker's tag edit as a command, so a CI job can
 * replace its `sed -i "s/tag: ..../tag: $TAG/"` line with an edit that changes only the tag, and fails
 * (exit 1, nothing written) when the target is missing or ambiguous or the tag is invalid.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { bumpTag, FORMATS, ManifestFileError, type ManifestFormat } from '../manifest/index.js';
import { parse } from './args.js';
import { UsageError, type Command } from './command.js';
import { decodeManifest, encodeManifest } from '../manifest/manifest-bytes.js';
import { writeFileAtomic } from './write-file-atomic.js';

export const bump: Command = {
  name: ['bump'],
  summary: 'set the image tag in a manifest, changing only the tag (stdout, or --in-place)',
  usage:
    'fjord bump <file> --tag <tag> [--format helm|kustomize|compose|k8s] ' +
    '[--path image.tag | --image <name> | --container <name> | --service <name>] [--in-place]',
  async run(args, io) {
    const { values, positionals } = parse(args, {
      tag: { type: 'string' },
      format: { type: 'string' },
      path: { type: 'string' },
      image: { type: 'string' },
      container: { type: 'string' },
      service: { type: 'string' },
      'in-place': { type: 'boolean', short: 'i' },
    });
    if (positionals.length !== 1) throw new UsageError('give exactly one manifest file');
    if (values.tag === undefined) throw new UsageError('--tag is required');
    const format = values.format as ManifestFormat | undefined;
    if (format !== undefined && !FORMATS.includes(format))
      throw new UsageError(`--format must be one of ${FORMATS.join(', ')}`);
    const file = positionals[0]!;
    const path = resolve(io.cwd, file);
    let text: string;
    try {
      // Bytes that are not UTF-8 (a Latin-1 comment) survive the edit unchanged: manifest-bytes.ts.
      text = decodeManifest(readFileSync(path));
    } catch (err) {
      throw new ManifestFileError(
        `${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
    }
    const { path: dotted, image, container, service } = values;
    const result = bumpTag(text, { file, format, path: dotted, image, container, service }, values.tag);
    const change = result.changed ? `${result.previousTag ?? '(none)'} → ${values.tag}` : `already ${values.tag}`;
    if (values['in-place']) {
      if (result.changed) {
        try {
          writeFileAtomic(path, encodeManifest(result.text));
        } catch (err) {
          throw new ManifestFileError(
            `${file}: cannot write (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
          );
        }
      }
      io.stderr(`${file}: ${result.where}: ${change}\n`);
    } else {
      io.stdout(result.text);
      io.stderr(`${file}: ${result.where}: ${change}\n`);
    }
    return 0;
  },
};
