/**
 * Tag edits on real manifests (issue 12, item 14): every file in test/manifest/corpus/ is a public chart's
 * values, a compose file, a k8s workload or a kustomization, copied byte-for-byte; SOURCES.json names its
 * repository, path and commit. Nothing expected is typed by hand: the `yaml` library locates the scalar
 * independently of fjord's locators and says what the documents must read after the edit, and the bytes
 * outside that scalar must be the original bytes — also behind a Latin-1 byte that is not UTF-8.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { isScalar, parseAllDocuments } from 'yaml';
import { bumpTag, readTag, type TagTarget } from '../../lib/manifest/index.js';
import { decodeManifest, encodeManifest } from '../../lib/manifest/manifest-bytes.js';

interface Source {
  /** Relative to corpus/; the folder is the format. */
  file: string;
  repo: string;
  path: string;
  commit: string;
  /** `at`: document index, then the keys and indexes at which the yaml library finds the edited scalar. */
  edits?: { target: TagTarget; at: [number, ...(string | number)[]] }[];
  refused?: { target: TagTarget; error: string };
}

const CORPUS = new URL('corpus/', import.meta.url);
const { files: SOURCES } = JSON.parse(readFileSync(new URL('SOURCES.json', CORPUS), 'utf8')) as { files: Source[] };
const TAG = 'fjord-corpus.7';
const LATIN1_COMMENT = Buffer.concat([
  Buffer.from('# r'),
  Buffer.of(0xe9),
  Buffer.from('sum'),
  Buffer.of(0xe9),
  Buffer.from(' (Latin-1)\n'),
]);

/** What an image reference or a tag reads as with `tag` set: the part after a last `:` that has no `/` is the tag. */
const withTag = (key: string | number, old: string, tag: string) =>
  key === 'tag' || key === 'newTag' ? tag : `${/^(.*?)(?::[^:/]*)?$/.exec(old)![1]}:${tag}`;

/** Byte offset of character offset `at` in `text`. */
const byteAt = (text: string, at: number) => Buffer.byteLength(text.slice(0, at));

describe('real-manifest corpus', () => {
  it('every corpus file is cited (repository, path, commit) and every citation has its file; at least 25 are edited', () => {
    const onDisk = readdirSync(CORPUS, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.yaml'))
      .map((e) => `${e.parentPath.slice(CORPUS.pathname.length)}/${e.name}`.replace(/^\//, ''))
      .sort();
    assert.deepEqual(SOURCES.map((s) => s.file).sort(), onDisk);
    for (const s of SOURCES) {
      assert.match(s.repo, /^[\w.-]+\/[\w.-]+$/, s.file);
      assert.match(s.commit, /^[0-9a-f]{40}$/, s.file);
      assert.ok(s.path.length > 0 && (s.edits?.length ?? 0) + (s.refused ? 1 : 0) > 0, s.file);
    }
    assert.ok(SOURCES.filter((s) => s.edits).length >= 25);
  });

  for (const source of SOURCES) {
    const bytes = readFileSync(new URL(source.file, CORPUS));
    const text = decodeManifest(bytes);

    for (const { target, at } of source.edits ?? []) {
      it(`${source.file} ${JSON.stringify(target)}: only the tag's bytes change`, () => {
        const [doc, ...keys] = at;
        const node = parseAllDocuments(text)[doc]!.getIn(keys, true);
        assert.ok(
          isScalar(node) && typeof node.value === 'string',
          `the yaml library finds a string at ${at.join('.')}`,
        );
        const [start, end] = [byteAt(text, node.range![0]), byteAt(text, node.range![1])];

        const result = bumpTag(text, target, TAG);
        const out = encodeManifest(result.text);
        // Byte-exact: everything before and after the scalar is the original bytes.
        assert.ok(out.subarray(0, start).equals(bytes.subarray(0, start)), 'bytes before the scalar changed');
        assert.ok(
          out.subarray(out.length - (bytes.length - end)).equals(bytes.subarray(end)),
          'bytes after the scalar changed',
        );
        const quote = (b: number | undefined) => (b === 0x22 || b === 0x27 ? b : 'plain');
        assert.equal(quote(out[start]), quote(bytes[start]), 'the scalar keeps its quoting');

        // Meaning: the documents read as the original with that one value set, as the yaml library sets it.
        const expected = parseAllDocuments(text);
        expected[doc]!.setIn(keys, withTag(keys.at(-1)!, node.value, TAG));
        assert.deepEqual(
          parseAllDocuments(result.text).map((d) => d.toJS()),
          expected.map((d) => d.toJS()),
        );
        assert.equal(readTag(result.text, target), TAG);
        const { format, ...detected } = target;
        assert.equal(bumpTag(text, detected, TAG).format, format, 'the format is detected from the content');
        assert.equal(bumpTag(result.text, target, TAG).changed, false);

        // A byte that is not UTF-8 elsewhere in the file survives the same edit.
        const latin1 = Buffer.concat([LATIN1_COMMENT, bytes]);
        const edited = encodeManifest(bumpTag(decodeManifest(latin1), target, TAG).text);
        assert.ok(edited.equals(Buffer.concat([LATIN1_COMMENT, out])), edited.toString('latin1'));
      });
    }

    if (source.refused) {
      const { target, error } = source.refused;
      it(`${source.file} ${JSON.stringify(target)}: refused with ${error}, never guessed at`, () => {
        assert.throws(
          () => bumpTag(text, target, TAG),
          (e: Error) => e.name === error && e.message.length > 0,
        );
      });
    }
  }
});
