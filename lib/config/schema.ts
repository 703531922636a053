/**
 * fjord.yaml, as one zod schema: the single source of truth for the config types (`Config` is inferred),
 * for validation (unknown keys are errors) and for `fjord config schema` (JSON Schema for editors).
 * Secrets are never written here: the file names the environment variables that hold them.
 */
import * as z from 'zod';
import { BRANCH, IMAGE, NAME, PROJECT } from '../grammar.js';
import { durationSchema } from './duration.js';
import { managedFileSchema } from '../files/file-schema.js';
import { freezeSchema } from './freezes.js';

const name = z.string().regex(NAME, 'must match [a-z0-9][a-z0-9_-]{0,62}');
const envVar = z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name (A-Z, 0-9, _)');
const project = z.string().regex(PROJECT, 'must be a project path such as group/project');
const branch = z.string().regex(BRANCH, 'not a valid branch name');

/** Placeholders a tag template may use; the rendered tag must still match the tag grammar. */
export const TAG_PLACEHOLDERS = ['sha', 'shortSha', 'branch', 'mr'] as const;
const tagTemplate = z
  .string()
  .min(1)
  .refine((t) => /^(?:[A-Za-z0-9_.-]|\{(?:sha|shortSha|branch|mr)\})+$/.test(t), {
    message: `tag template may contain [A-Za-z0-9_.-] and {${TAG_PLACEHOLDERS.join('}, {')}}`,
  });

const gitlabSource = z.strictObject({
  /** GitLab base URL (self-hosted instances): API calls go to `<url>/api/v4`. */
  url: z.url().default('https://gitlab.com'),
  /** Env var holding the API token (manifest commits, statuses, notes). */
  tokenEnv: envVar.optional(),
  /** Env var holding the `X-Gitlab-Token` secret; several, comma-separated, during rotation. */
  webhookSecretEnv: envVar.optional(),
  /** Env var holding a signed-webhook key (`whsec_…`, Standard Webhooks); comma-separated for rotation. */
  signingKeyEnv: envVar.optional(),
  /** How old a signed webhook's `webhook-timestamp` may be. */
  replayWindow: durationSchema.default(300_000),
  /** With a token: ask the API that the MR is merged and the sha is on the branch before committing (lib/worker/confirm-source.ts). */
  confirmMerge: z.boolean().default(true),
});

const githubSource = z
  .strictObject({
    /** Env var holding the webhook secret (`X-Hub-Signature-256`); comma-separated for rotation. */
    webhookSecretEnv: envVar.optional(),
    tokenEnv: envVar.optional(),
    /** A GitHub App instead of a token: fjord makes installation tokens with the app's private key. */
    app: z
      .strictObject({
        id: z.number().int().positive(),
        installationId: z.number().int().positive(),
        privateKeyEnv: envVar,
      })
      .optional(),
    url: z.url().default('https://api.github.com'),
    /** With a token or app: ask the API that the PR is merged and the sha is on the branch before committing. */
    confirmMerge: z.boolean().default(true),
  })
  .refine((s) => !(s.tokenEnv && s.app), { message: 'tokenEnv and app both set: choose one', path: ['app'] });

const registry = z.strictObject({
  /** Registry host[:port] as it appears in image names. */
  host: z.string().regex(/^[A-Za-z0-9.-]+(?::\d{1,5})?$/, 'must be host[:port]'),
  usernameEnv: envVar.optional(),
  passwordEnv: envVar.optional(),
  /** Talk plain HTTP (a registry on loopback in tests, or behind a trusted network). */
  insecure: z.boolean().default(false),
});

const manifest = z.strictObject({
  backend: z.enum(['gitlab', 'git']).default('git'),
  /** `gitlab`: the manifest project's path. Also how pushes to it are recognised as converge events. */
  project: project.optional(),
  /** `git`: path or URL of the manifest repository (a local path, file://, or ssh). */
  repository: z.string().min(1).optional(),
  branch: branch.default('main'),
  /** `commit` straight to the branch, or open a merge request for a person to merge. */
  writeBack: z.enum(['commit', 'mr']).default('commit'),
  /** `git`: when `repository` is a local path that does not exist yet, create it from this directory's files. */
  seed: z.string().min(1).optional(),
  commitMessage: z.string().min(1).default('deploy({app}/{env}): {image}:{tag}'),
  author: z
    .strictObject({ name: z.string().min(1).default('fjord'), email: z.string().min(3).default('fjord@localhost') })
    .prefault({}),
});

const host = z.strictObject({
  address: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address'),
  port: z.number().int().min(1).max(65535).default(22),
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'not a valid user name')
    .optional(),
  /** Pinned host key: `SHA256:<base64>` as printed by `ssh-keygen -lf`. Required: no trust on first use. */
  hostKey: z.string().regex(/^SHA256:[A-Za-z0-9+/]{43}=?$/, 'must be SHA256:<base64> as printed by ssh-keygen -l'),
  labels: z.record(z.string(), z.string()).default({}),
});

const ssh = z.strictObject({
  user: z
    .string()
    .regex(/^[a-z_][a-z0-9_-]{0,31}$/, 'not a valid user name')
    .default('deploy'),
  privateKeyEnv: envVar.optional(),
  privateKeyFile: z.string().min(1).optional(),
  passphraseEnv: envVar.optional(),
  /** Use `SSH_AUTH_SOCK` when it is set. */
  agent: z.boolean().default(true),
  connectTimeout: durationSchema.default(10_000),
  commandTimeout: durationSchema.default(300_000),
  /** Directory on each host for fjord's lock and state (relative to the user's home). */
  stateDir: z.string().min(1).default('.fjord'),
  /** A host lock older than this is stale and may be taken over. */
  lockStaleAfter: durationSchema.default(3_600_000),
});

/** Passing probes needed in a row before a host counts as healthy (default 1): a flapping app fails. */
const successes = z.number().int().min(1).max(100).optional();

const healthCheck = z.union([
  z.strictObject({
    /** HTTP GET run from the host itself: `http://127.0.0.1:<port><path>`. */
    path: z
      .string()
      .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$/, 'must be an absolute URL path')
      .default('/'),
    /** Required, except behind `rollout.proxy`: there the probe goes to the new container's slot address (see the rollout's check below). */
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe(
        "host port probed; required unless rollout.proxy is set (then the probe goes to the new container's slot)",
      ),
    /** Expected status codes (default 2xx). */
    status: z.array(z.number().int().min(100).max(599)).optional(),
    interval: durationSchema.default(1000),
    timeout: durationSchema.default(60_000),
    successes,
  }),
  z.strictObject({
    command: z.array(z.string()).min(1),
    interval: durationSchema.default(1000),
    timeout: durationSchema.default(60_000),
    successes,
  }),
]);

const container = z.strictObject({
  name: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/, 'not a valid container name')
    .optional(),
  ports: z
    .array(z.string().regex(/^(?:[0-9.]+:)?\d{1,5}:\d{1,5}(?:\/(?:tcp|udp))?$/, 'must be [ip:]hostPort:containerPort'))
    .default([]),
  envFile: z.string().min(1).optional(),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
  volumes: z.array(z.string().min(1)).default([]),
  restart: z.enum(['no', 'always', 'unless-stopped', 'on-failure']).default('unless-stopped'),
  args: z.array(z.string()).default([]),
  /** Stop the old container before starting the new one (needed when the new one must reuse its ports). */
  stopFirst: z.boolean().default(false),
  /**
   * How long a new container must stay `running` (not restarting, restart count 0) after `docker run -d`
   * before fjord checks its health: a crash loop under a restart policy reads as running otherwise.
   */
  settle: durationSchema.default(1000),
  /** Grace between SIGTERM and SIGKILL when stopping (`docker stop -t`, `docker run --stop-timeout`); unset: docker's 10 s. */
  stopTimeout: durationSchema.optional(),
  /** Run an init process as PID 1 (`docker run --init`): signals reach the app, zombies are reaped. */
  init: z.boolean().default(false),
});

const tcpPort = z.number().int().min(1).max(65535);
const plainPath = z.string().regex(/^[A-Za-z0-9_./-]+$/, 'must be a plain path ([A-Za-z0-9_./-])');

/**
 * Zero-downtime switching through the host's own proxy (docker strategy; README "Running with a proxy"):
 * the new container starts on the free one of two host ports, is health-checked there, then the proxy's
 * upstream is switched to it and the old one drains and stops.
 */
const proxy = z.strictObject({
  kind: z.literal('nginx').default('nginx'),
  /** The port the app listens on inside its container. */
  containerPort: tcpPort,
  /** Two host ports the app's containers take turns on (blue/green): a fixed pair, so the upstream file stays valid after a reboot. */
  hostPorts: z.tuple([tcpPort, tcpPort]).refine(([a, b]) => a !== b, 'the two host ports must differ'),
  /** Where the slot ports are published: an IPv4 address, or `engine` for the engine's default address (dockerd `--ip`). */
  bind: z
    .union([z.literal('engine'), z.string().regex(/^\d{1,3}(?:\.\d{1,3}){3}$/, 'must be an IPv4 address or engine')])
    .default('127.0.0.1'),
  /** The app's upstream file, `include`d by the host's nginx config (default `/etc/nginx/fjord/<app>-<env>.conf`; relative: to the deploy user's home). */
  upstreamFile: plainPath.optional(),
  /** nginx's pid file: a live process there means the proxy is up. */
  pidFile: plainPath.default('/run/nginx.pid'),
  /** After the switch, how long the old container keeps serving its in-flight requests before it is stopped. */
  drain: durationSchema.default(2000),
});

const rollout = z
  .strictObject({
    strategy: z.enum(['docker', 'compose', 'command']).default('docker'),
    /** Hosts per batch: a number, or a percentage of the environment's hosts such as `25%`. */
    batchSize: z
      .union([z.number().int().positive(), z.string().regex(/^(100|[1-9]?\d)%$/, 'must be N or N%')])
      .default(1),
    /** Deploy to the first host alone before the batches. */
    canary: z.boolean().default(false),
    /** Hosts pulling the image at once before batch 1 (every host pulls first; a failed pull changes nothing). */
    pullParallel: z.number().int().min(1).max(64).default(8),
    /** After an automatic rollback the environment is held until `fjord release` (lib/holds); false: later merges roll out. */
    holdAfterRollback: z.boolean().default(true),
    container: container.prefault({}),
    compose: z
      .strictObject({
        directory: z.string().min(1),
        service: z.string().min(1),
        /** Variable the compose file reads the tag from (`image: …:${TAG}`); fjord writes it to `<directory>/.env`. */
        tagVariable: envVar.default('TAG'),
      })
      .optional(),
    command: z
      .strictObject({
        pre: z.array(z.array(z.string())).default([]),
        deploy: z.array(z.array(z.string())).default([]),
        post: z.array(z.array(z.string())).default([]),
      })
      .optional(),
    healthCheck: healthCheck.optional(),
    proxy: proxy.optional(),
    /** Deadline for one host's whole rollout (pull included). */
    hostTimeout: durationSchema.default(600_000),
  })
  .superRefine((r, ctx) => {
    // An HTTP check probes `healthCheck.port` on the host, unless a proxy's slot address takes its place
    // (proxy/probe-at.ts). Not said of a check that is wrong already (a command check with a typo reads as HTTP).
    const checkValid = !ctx.issues.some((i) => i.path?.[0] === 'healthCheck');
    if (checkValid && r.healthCheck && !('command' in r.healthCheck) && r.healthCheck.port === undefined && !r.proxy)
      ctx.addIssue({
        code: 'custom',
        path: ['healthCheck', 'port'],
        message:
          'required (the host probes http://127.0.0.1:<port><path>); only behind rollout.proxy may it be left out',
      });
    // Behind a proxy fjord publishes the app's one port itself, and only a health check says when the new container may take traffic.
    if (!r.proxy) return;
    if (r.strategy !== 'docker')
      ctx.addIssue({ code: 'custom', path: ['proxy'], message: 'needs rollout.strategy docker' });
    if (!r.healthCheck)
      ctx.addIssue({
        code: 'custom',
        path: ['proxy'],
        message: 'needs rollout.healthCheck (the proxy switches only to a container that passed it)',
      });
    if (r.container.ports.length)
      ctx.addIssue({
        code: 'custom',
        path: ['container', 'ports'],
        message: 'must be empty with rollout.proxy (fjord publishes proxy.containerPort on a slot of proxy.hostPorts)',
      });
  });

const manifestTarget = z.strictObject({
  /** File in the manifest repository, relative to its root. */
  file: z
    .string()
    .regex(/^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[A-Za-z0-9_./-]+$/, 'must be a relative path inside the repository'),
  format: z.enum(['helm', 'kustomize', 'compose', 'k8s']).optional(),
  /** helm: dotted path to the tag, e.g. `image.tag`. */
  path: z.string().min(1).optional(),
  /** kustomize: `images[name=…]`; k8s/compose: match the image by name. */
  image: z.string().min(1).optional(),
  container: z.string().min(1).optional(),
  service: z.string().min(1).optional(),
});

const accessLevel = z.union([z.literal(10), z.literal(20), z.literal(30), z.literal(40), z.literal(50)], {
  error: 'must be a GitLab access level: 10 guest, 20 reporter, 30 developer, 40 maintainer, 50 owner',
});
const protectSchema = z.strictObject({
  /** The person who merged (or asked, `/fjord deploy`) needs at least this access level on `project`. */
  minAccessLevel: accessLevel.optional(),
  /** Whose members count: the app's source project or the manifest project. */
  project: z.enum(['source', 'manifest']).default('source'),
  /** Distinct approvals (`/fjord approve <env>`) a deploy waits for; never the deployer's own. */
  approvals: z.number().int().min(0).max(10).default(0),
  approvers: z.strictObject({ minAccessLevel: accessLevel.default(30) }).prefault({}),
});

const environment = z
  .strictObject({
    /** Deploy from this branch instead of the app's source branch. */
    branch: branch.optional(),
    manifest: manifestTarget,
    hosts: z.array(name).default([]),
    rollout: rollout.prefault({}),
    promoteFrom: name.optional(),
    promote: z.enum(['auto', 'mr']).default('auto'),
    selfHeal: z.boolean().default(false),
    writeBack: z.enum(['commit', 'mr']).optional(),
    /** The app's secrets in the manifest repository (README "Files and secrets"): decrypted by the worker into an env file on each host. */
    secrets: z.strictObject({ file: manifestTarget.shape.file, format: z.enum(['sops', 'age']).optional() }).optional(),
    /** Files fjord keeps on the hosts (README "Files and secrets"): validated, swapped atomically, reloaded, rolled back like a release. */
    files: z.array(managedFileSchema).default([]),
    /** Protected environment (issue 14, item 2; lib/gates/protect-gate.ts): who may deploy, and how many must approve. */
    protect: protectSchema.optional(),
    /** Staging soak (lib/gates/soak-gate.ts): a promotion waits until `after` has run the tag healthily for `healthyFor`. */
    soak: z.strictObject({ after: name, healthyFor: durationSchema }).optional(),
  })
  .superRefine((e, ctx) => {
    // The env file reaches the container through `docker run --env-file`: other strategies would never see it.
    if (e.secrets && e.rollout.strategy !== 'docker')
      ctx.addIssue({
        code: 'custom',
        path: ['secrets'],
        message: 'needs rollout.strategy docker (the env file is passed with docker run --env-file)',
      });
  });

const app = z.strictObject({
  source: z.strictObject({
    provider: z.enum(['gitlab', 'github']).default('gitlab'),
    project,
    branch: branch.default('main'),
    /** `merge`: merged MRs/PRs; `push`: any push; `pipeline`: a successful pipeline (CI built the image). */
    trigger: z.enum(['merge', 'push', 'pipeline']).default('merge'),
    /** Also deploy pushed tags (`refs/tags/…`), with the git tag as the image tag. */
    tags: z.boolean().default(false),
    /** Env var holding this app's own webhook secret (GitLab token / GitHub secret); unset: the provider's shared one. */
    webhookSecretEnv: envVar.optional(),
  }),
  image: z.string().regex(IMAGE, 'not a valid image name (OCI reference grammar, without tag)'),
  tag: tagTemplate.default('{shortSha}'),
  /** How long to wait for `image:tag` to appear in the registry before failing the job; 0 skips the check. */
  waitForImage: durationSchema.default(900_000),
  environments: z
    .record(name, environment)
    .refine((e) => Object.keys(e).length > 0, 'an app needs at least one environment'),
});

export const configSchema = z.strictObject({
  sources: z.strictObject({ gitlab: gitlabSource.optional(), github: githubSource.optional() }).prefault({}),
  manifest,
  registries: z.array(registry).default([]),
  ssh: ssh.prefault({}),
  hosts: z.record(name, host).default({}),
  apps: z.record(name, app),
  /** Deploy freeze windows (lib/config/freezes.ts; issue 14, item 1). */
  freezes: z.array(freezeSchema).default([]),
  worker: z
    .strictObject({
      concurrency: z.number().int().min(1).max(64).default(4),
      maxAttempts: z.number().int().min(1).max(100).default(5),
      visibility: durationSchema.default(900_000),
      /** Embedded queue: jobs one app/environment may hold (deploys coalesce to the newest; issue 12, item 7). */
      maxQueuedPerGroup: z.number().int().min(2).max(10_000).default(50),
    })
    .prefault({}),
  reconcile: z
    .strictObject({
      /** How often the drift check runs (embedded interval; EventBridge rate and the Workers cron are set to match at deploy time). */
      interval: durationSchema.default(300_000),
      /** `selfHeal`: heal jobs for one drift before fjord stops trying and only reports it. */
      healAttempts: z.number().int().min(1).max(20).default(3),
      /** `selfHeal`: wait after a failed heal before the next one; doubles per failure. */
      healBackoff: durationSchema.default(60_000),
    })
    .prefault({}),
  /** App secrets: the variable holding the worker's age identities (`AGE-SECRET-KEY-1…`, comma- or newline-separated). */
  secrets: z.strictObject({ identityEnv: envVar.default('FJORD_AGE_KEY') }).prefault({}),
  notify: z
    .strictObject({
      /** Env var holding a Slack-compatible incoming-webhook URL (`{"text": …}` JSON POST) for chat. */
      webhookUrlEnv: envVar.optional(),
      /** Post a plan note on open merge requests of watched branches. */
      planNotes: z.boolean().default(true),
    })
    .prefault({}),
  /** `/fjord` commands in MR/PR comments (issue 14, item 4). */
  commands: z
    .strictObject({
      /** Lowest access level that may run a command: GitLab's (30 Developer, 40 Maintainer, 50 Owner); GitHub roles map to it (write 30, maintain 40, admin 50). */
      minAccessLevel: z.number().int().min(10).max(50).default(40),
    })
    .prefault({}),
  statusPage: z
    .strictObject({
      /** Serve the read-only status page at `GET /` where a worker runs next to the receiver (embedded). */
      enabled: z.boolean().default(true),
      /** Env var holding a token the page then requires (`Authorization: Bearer …` or `?token=`); none: open. */
      tokenEnv: envVar.optional(),
    })
    .prefault({}),
});

export type Config = z.output<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;
export type AppConfig = Config['apps'][string];
export type EnvironmentConfig = AppConfig['environments'][string];
export type HostConfig = Config['hosts'][string];
export type RolloutConfig = EnvironmentConfig['rollout'];
export type ManifestTarget = EnvironmentConfig['manifest'];
