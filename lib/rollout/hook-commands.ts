/**
 * The `command` strategy: the user's own argv lists (pre, deploy, post) with `{image}`, `{tag}`, `{app}`
 * and `{env}` replaced inside each argument. A value never splits into words or reaches a shell unquoted:
 * each argument stays one argument, and the runner quotes it.
 */
export interface HookValues {
  image: string;
  tag: string;
  app: string;
  env: string;
}

const PLACEHOLDER = /\{(image|tag|app|env)\}/g;

export function substitute(argv: readonly string[], values: HookValues): string[] {
  return argv.map((arg) => arg.replace(PLACEHOLDER, (_, key: keyof HookValues) => values[key]));
}

/** pre, then deploy, then post hooks, each substituted. */
export function hookCommands(
  hooks: { pre: string[][]; deploy: string[][]; post: string[][] },
  values: HookValues,
): string[][] {
  return [...hooks.pre, ...hooks.deploy, ...hooks.post]
    .filter((argv) => argv.length > 0)
    .map((argv) => substitute(argv, values));
}
