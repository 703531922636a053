/** zod issues as `apps.api.environments.prod.hosts[2]: message` lines. */
import type * as z from 'zod';

/** `['apps', 'api', 'hosts', 2]` → `apps.api.hosts[2]`. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += (out ? '.' : '') + String(key);
  }
  return out || '(root)';
}

export function formatIssues(issues: ReadonlyArray<z.core.$ZodIssue>): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => `${formatPath([...issue.path, k])}: unknown key`).join('\n  ');
    }
    return `${formatPath(issue.path)}: ${issue.message}`;
  });
}
