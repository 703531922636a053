/**
 * A `/fjord` command from a merge request comment (issue 14, item 4), as it travels in a `command` job:
 * parsed and grammar-checked by the receiver, checked again by the job schema in the worker. fjord.yaml,
 * not the comment, decides what exists; the comment only picks a verb, an environment and a tag.
 */
import * as z from 'zod';
import { nameSchema, tagSchema, textSchema } from '../grammar.js';

export const VERBS = ['plan', 'deploy', 'rollback', 'hold', 'release', 'unlock', 'approve', 'reject', 'help'] as const;
export type Verb = (typeof VERBS)[number];

/** GitLab usernames and GitHub logins: letters, digits, `_`, `.`, `-`. */
export const USERNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$/;

export const commandSchema = z.strictObject({
  verb: z.enum(VERBS),
  environment: nameSchema.optional(),
  /** `deploy <env> --tag T`, `rollback <env> --to T`. */
  tag: tagSchema.optional(),
  /** `hold <env> <reason…>`, `reject <env> <reason…>`. */
  reason: textSchema.optional(),
  /** Why the answer is help: an unknown verb or a bad argument (already cleaned text). */
  problem: textSchema.optional(),
  /** The commenter, whose permission the worker checks through the platform's API before anything runs. */
  user: z.strictObject({ id: z.number().int().positive(), username: z.string().regex(USERNAME) }),
  /** The comment, answered in its thread: GitLab note id and discussion id, GitHub comment id. */
  note: z.strictObject({
    id: z.number().int().positive(),
    discussion: z
      .string()
      .regex(/^[0-9a-f]{8,64}$/)
      .optional(),
  }),
});
export type CommandOrder = z.infer<typeof commandSchema>;
