/**
 * Strict grammars for every value that a webhook supplies and that later reaches a shell, a file path or a
 * YAML edit. Values are checked here, before a job exists; the SSH runner still quotes every argument.
 */
import { z } from 'zod';

/** Image tag, per the OCI distribution spec: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`. */
export const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

// OCI reference grammar (distribution/reference): [domain '/'] path-component ('/' path-component)*
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9a-fA-F:]+\\])(?::[0-9]{1,5})?`;
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
/** Image name without tag or digest, e.g. `registry.example.com:5000/acme/api`. */
export const IMAGE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);

/** Full commit id (SHA-1, or SHA-256 object format). */
export const SHA = /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/;

/** Branch and tag names we accept: a conservative subset of git-check-ref-format (`+` for semver build tags). */
export const BRANCH = /^(?!.*\.\.)(?!.*\/\/)(?!.*\.lock$)(?!.*[/.]$)[A-Za-z0-9_][A-Za-z0-9_.+/-]{0,199}$/;

/** GitLab `group/subgroup/project` or GitHub `owner/repo`. */
export const PROJECT = /^(?!.*\.\.)[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}(?:\/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}){1,9}$/;

/** Names of apps, environments and hosts in fjord.yaml. */
export const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Free text that ends up in commit messages and notes (author names): printable, one line. */
export const TEXT = /^[^\p{Cc}\p{Zl}\p{Zp}]{0,200}$/u;

const grammar = (re: RegExp, what: string) => z.string().regex(re, { message: `not a valid ${what}` });

export const tagSchema = grammar(TAG, 'image tag ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})');
export const imageSchema = grammar(IMAGE, 'image name (OCI reference grammar)').max(255);
export const shaSchema = grammar(SHA, 'commit sha (40 or 64 lowercase hex)');
export const branchSchema = grammar(BRANCH, 'branch name');
export const projectSchema = grammar(PROJECT, 'project path (group/project)');
export const nameSchema = grammar(NAME, 'name ([a-z0-9][a-z0-9_-]{0,62})');
export const textSchema = grammar(TEXT, 'single-line text of at most 200 characters');
