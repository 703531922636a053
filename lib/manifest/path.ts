/**
 * Dotted paths into YAML: `image.tag`, `containers[0].image`, `images[name=api].newTag`. A `[field=value]`
 * selector must match exactly one item of a sequence. Paths never follow aliases or merge keys: the value
 * behind them lives somewhere else in the file, and editing it there would change every user of the anchor.
 */
import { isAlias, isMap, isScalar, isSeq, type Node, type Pair, type YAMLMap } from 'yaml';
import { ManifestTargetAmbiguous, ManifestTargetNotFound, ManifestTargetUnsupported } from './errors.js';

export type Segment = { key: string } | { index: number } | { field: string; value: string };

/** Parse `a.b[0].c[name=x]`; throws ManifestTargetNotFound for a path that cannot name anything. */
export function parsePath(path: string): Segment[] {
  const segments: Segment[] = [];
  const token = /([^.[\]]+)|\[(\d+)\]|\[([^=[\]]+)=([^[\]]*)\]/y;
  let i = 0;
  while (i < path.length) {
    if (segments.length > 0 && path[i] === '.') i++;
    token.lastIndex = i;
    const m = token.exec(path);
    if (!m)
      throw new ManifestTargetNotFound(path, `cannot read the path at "${path.slice(i)}"; use a.b[0].c or a[name=x].b`);
    if (m[1] !== undefined) segments.push({ key: m[1] });
    else if (m[2] !== undefined) segments.push({ index: Number(m[2]) });
    else segments.push({ field: m[3]!, value: m[4]! });
    i = token.lastIndex;
  }
  if (segments.length === 0) throw new ManifestTargetNotFound(path, 'empty path');
  return segments;
}

/** The string form of a scalar key or value as written (`1.10` stays `1.10`, not the number 1.1). */
export function scalarText(node: unknown): string | undefined {
  if (!isScalar(node)) return undefined;
  return typeof node.source === 'string' ? node.source : node.value == null ? undefined : String(node.value);
}

/** The text of a scalar that holds a value: undefined for a missing key, `null`, `~`, an empty value or `""`. */
export function valueText(node: unknown): string | undefined {
  if (!isScalar(node) || node.value === null || node.value === undefined) return undefined;
  return scalarText(node) || undefined;
}

/** The pair of `map` whose key reads `key`, if any (keys are unique: the parser rejects duplicates). */
export function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => scalarText(p.key) === key) as Pair | undefined;
}

const show = (segments: Segment[]): string =>
  segments
    .map((s, i) => ('key' in s ? (i ? '.' : '') + s.key : 'index' in s ? `[${s.index}]` : `[${s.field}=${s.value}]`))
    .join('');

/**
 * Follow `segments` from `root`. Returns the node found (a scalar, map or sequence), or undefined when some
 * step is missing; `missing` then says which. Throws on an alias or an ambiguous selector.
 */
export function followPath(root: unknown, segments: Segment[], path: string): { node?: Node; missing?: string } {
  let node = root;
  for (let i = 0; i < segments.length; i++) {
    const seg = segments[i]!;
    const at = show(segments.slice(0, i)) || '(top level)';
    if (isAlias(node)) {
      throw new ManifestTargetUnsupported(
        path,
        `${at} is an alias (*${node.source}); point the path at the anchor &${node.source} instead`,
      );
    }
    if ('key' in seg) {
      if (!isMap(node)) return { missing: `${at} is not a mapping` };
      const pair = pairOf(node, seg.key);
      if (!pair) {
        const merged = node.items.some((p) => scalarText(p.key) === '<<');
        return {
          missing: `no key "${seg.key}" at ${at}${merged ? ' (a merge key "<<" may supply it: point the path at the anchored mapping)' : ''}`,
        };
      }
      node = pair.value;
    } else if ('index' in seg) {
      if (!isSeq(node)) return { missing: `${at} is not a sequence` };
      if (seg.index >= node.items.length) return { missing: `${at} has ${node.items.length} items` };
      node = node.items[seg.index];
    } else {
      if (!isSeq(node)) return { missing: `${at} is not a sequence` };
      const hits = node.items.filter((item) => isMap(item) && scalarText(pairOf(item, seg.field)?.value) === seg.value);
      if (hits.length > 1)
        throw new ManifestTargetAmbiguous(
          path,
          hits.map((_, n) => `${at}[${seg.field}=${seg.value}] #${n + 1}`),
        );
      if (hits.length === 0) return { missing: `no item with ${seg.field}=${seg.value} in ${at}` };
      node = hits[0];
    }
  }
  if (isAlias(node)) {
    throw new ManifestTargetUnsupported(
      path,
      `${path} is an alias (*${node.source}); point the path at the anchor &${node.source} instead`,
    );
  }
  return { node: node as Node };
}
