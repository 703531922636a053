/** An app's tag template (`{sha} {shortSha} {branch} {mr}`) rendered for one event, then held to the tag grammar. */
import { InvalidEvent } from '../errors.js';
import { TAG } from '../grammar.js';
import { quote } from './event.js';

export interface TagValues {
  sha: string;
  branch: string;
  mr?: number;
}

/** Renders `template`; a result outside the OCI tag grammar is an InvalidEvent at `tag`. */
export function renderTag(template: string, values: TagValues): string {
  const tag = template.replace(/\{(sha|shortSha|branch|mr)\}/g, (_, key: string) => {
    if (key === 'sha') return values.sha;
    if (key === 'shortSha') return values.sha.slice(0, 8);
    // Tags cannot hold `/` or `+`: feature/x → feature-x (image-tag-of-ref.ts, the one mapping rule).
    if (key === 'branch') return values.branch.replace(/[^A-Za-z0-9_.-]/g, '-');
    if (values.mr === undefined)
      throw new InvalidEvent('tag', `template ${quote(template)} uses {mr}, but this event has no merge request`);
    return String(values.mr);
  });
  if (!TAG.test(tag)) {
    throw new InvalidEvent(
      'tag',
      `template ${quote(template)} rendered ${quote(tag)}, not a valid image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`,
    );
  }
  return tag;
}
