/**
 * `environments.<env>.files[]` in fjord.yaml (issue 13, "files as desired state"): a file of the manifest
 * repository that fjord keeps on each host — target path, mode, owner, an optional per-host template, a
 * `validate` command run against the new bytes before they replace the old ones, and what a change needs
 * (`reload` a command, `restart` the app's container, or nothing). Every path and mode is grammar-checked
 * here: they reach a host's shell only as positional parameters of fixed scripts (`file-commands.ts`).
 */
import * as z from 'zod';
import { NAME } from '../grammar.js';

/** A path on the host: absolute, or relative to the deploy user's home; no `..`, no shell metacharacters. */
export const TARGET_PATH = /^(?!.*(?:^|\/)\.\.(?:\/|$))\/?[A-Za-z0-9_.@+-]+(?:\/[A-Za-z0-9_.@+-]+)*$/;
const SOURCE_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9_./@+-]+$/;
const OWNER = /^[a-z_][a-z0-9_-]{0,31}(?::[a-z_][a-z0-9_-]{0,31})?$/;
/** Placeholder of `validate` for the new content's (absolute) path. */
export const FILE_PLACEHOLDER = '{file}';

const argv = z.array(z.string().min(1)).min(1);

export const managedFileSchema = z
  .strictObject({
    /** File in the manifest repository, relative to its root; ending in `/`, a directory: each file under it goes to the same path under `target`. */
    source: z.string().regex(SOURCE_PATH, 'must be a relative path inside the repository'),
    /** Where it goes on each host: absolute, or relative to the deploy user's home. */
    target: z.string().regex(TARGET_PATH, 'must be a plain path ([A-Za-z0-9_./@+-], no `..`)').max(1024),
    /** Octal permission bits of the file on the host. */
    mode: z
      .string()
      .regex(/^0?[0-7]{3}$/, 'must be an octal mode such as "0644"')
      .default('0644'),
    /** `user` or `user:group` (the deploy user must be allowed to chown: root, or the same user). */
    owner: z.string().regex(OWNER, 'must be user or user:group').optional(),
    /** Render the source as a Mustache template per host: `{{host.name}}`, `{{host.address}}`, `{{host.labels.<key>}}`, `{{app}}`, `{{environment}}`. */
    template: z.boolean().default(false),
    /** Run on the host against the new content before it replaces the old (`{file}` is its path): `[nginx, -t, -c, "{file}"]`. */
    validate: argv.optional(),
    /**
     * After a change: run this command on the host (`[systemctl, reload, haproxy]`), or `{ nginx: { pidFile } }`:
     * `nginx -s reload` that waits until the master applied the new config (the signal is asynchronous).
     */
    reload: z
      .union([
        argv,
        z.strictObject({
          nginx: z
            .strictObject({ pidFile: z.string().regex(TARGET_PATH, 'must be a plain path').default('/run/nginx.pid') })
            .prefault({}),
        }),
      ])
      .optional(),
    /** After a change: restart the app's container (rolling and health-checked, as a new image would be). */
    restart: z.boolean().default(false),
    /** Only these hosts of the environment (a host group); default: all of them. */
    hosts: z.array(z.string().regex(NAME)).optional(),
    /** The content is secret: drift reports only its hash, never a diff of its bytes. */
    secret: z.boolean().default(false),
    /**
     * When the source is gone from the repository, remove the file from the hosts (off: the converge fails instead).
     * A directory: a file gone from it is removed, if fjord wrote it there (a per-host record of the names it wrote).
     */
    prune: z.boolean().default(false),
  })
  .refine((f) => !(f.reload && f.restart), { message: 'set reload or restart, not both', path: ['restart'] });

export type ManagedFile = z.output<typeof managedFileSchema>;
