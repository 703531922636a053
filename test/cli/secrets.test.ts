// `fjord secrets set|edit|rotate` on a checkout of a manifest repository: encrypted to the recipients its
// .sops.yaml declares, read back by the worker's own decryption with the worker's identity, output that
// names keys and never values, and errors that write nothing.
import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { main } from '../../lib/cli/main.js';
import { Secret } from '../../lib/secret.js';
import { SecretsIdentityMismatch } from '../../lib/secrets/errors.js';
import { decryptAppSecrets } from '../../lib/secrets/load-app-secrets.js';
import { sopsRecipients } from '../../lib/secrets/sops.js';

const PROD = 'secrets/api.prod.enc.yaml';
const DEV = 'secrets/api.dev.env.age';
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const keyPair = async () => {
  const identity = await generateIdentity();
  return { identity, recipient: await identityToRecipient(identity) };
};

/** A manifest checkout with fjord.yaml and a .sops.yaml naming `recipients` for everything under secrets/. */
function checkout(recipients: string[]): string {
  const repo = mkdtempSync(join(tmpdir(), 'fjord-secrets-cli-'));
  dirs.push(repo);
  writeFileSync(
    join(repo, 'fjord.yaml'),
    `
sources: { gitlab: { webhookSecretEnv: FJORD_GITLAB_SECRET } }
manifest: { backend: git, repository: ./manifests.git }
apps:
  api:
    source: { provider: gitlab, project: acme/api }
    image: registry.example.com/acme/api
    environments:
      prod:
        manifest: { file: api/prod.yaml, path: image.tag }
        secrets: { file: ${PROD} }
      dev:
        manifest: { file: api/dev.yaml, path: image.tag }
        secrets: { file: ${DEV} }
      plain:
        manifest: { file: api/plain.yaml, path: image.tag }
`,
  );
  sopsYaml(repo, recipients);
  return repo;
}

const sopsYaml = (repo: string, recipients: string[]) =>
  writeFileSync(
    join(repo, '.sops.yaml'),
    `creation_rules:\n  - path_regex: ^secrets/.*\n    age: "${recipients.join(',')}"\n  - path_regex: .*\n    age: age1qqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqqq\n`,
  );

async function fjord(args: string[], repo: string, env: NodeJS.ProcessEnv = {}, stdin?: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => {
      stdout += s;
    },
    stderr: (s) => {
      stderr += s;
    },
    env: { HOME: repo, ...env },
    cwd: repo,
    ...(stdin !== undefined ? { stdin: async () => stdin } : {}),
  });
  return { code, stdout, stderr, out: stdout + stderr };
}

/** What the worker makes of the file, with its own identity: the env file's text. */
const workerReads = async (repo: string, file: string, identity: string) =>
  (await decryptAppSecrets({ file }, readFileSync(join(repo, file), 'utf8'), [new Secret(identity)])).envFile.reveal();

describe('fjord secrets (in-process)', async () => {
  const worker = await keyPair();
  const person = await keyPair();

  it('set creates the SOPS file encrypted to .sops.yaml recipients, which the worker decrypts with its own key', async () => {
    const repo = checkout([worker.recipient, person.recipient]);
    const run = await fjord(
      ['secrets', 'set', 'api', 'prod', 'DATABASE_URL=postgres://u:pw-4711@db/app', 'API_TOKEN=tok-8f3a9c'],
      repo,
    );
    assert.equal(run.code, 0, run.out);
    assert.equal(
      run.stderr,
      `${PROD}: added API_TOKEN, DATABASE_URL (encrypted to 2 recipients of .sops.yaml); commit and push it to roll it out\n`,
    );
    const text = readFileSync(join(repo, PROD), 'utf8');
    assert.doesNotMatch(text, /pw-4711|tok-8f3a9c/);
    assert.deepEqual(sopsRecipients(text, PROD), [worker.recipient, person.recipient]);
    assert.equal(
      await workerReads(repo, PROD, worker.identity),
      'API_TOKEN=tok-8f3a9c\nDATABASE_URL=postgres://u:pw-4711@db/app\n',
    );
    const stranger = await keyPair();
    await assert.rejects(workerReads(repo, PROD, stranger.identity), SecretsIdentityMismatch);
  });

  it("set changes, adds and unsets by key with the person's identity; a value from stdin stays out of argv; output names keys only", async () => {
    const repo = checkout([worker.recipient, person.recipient]);
    const env = { SOPS_AGE_KEY: person.identity };
    assert.equal(
      (
        await fjord(
          ['secrets', 'set', 'api', 'prod', 'A_KEY=alpha-1111', 'B_KEY=bravo-2222', 'C_KEY=charlie-3333'],
          repo,
        )
      ).code,
      0,
    );
    const run = await fjord(
      ['secrets', 'set', 'api', 'prod', 'B_KEY', 'D_KEY=delta-4444', 'A_KEY=alpha-1111', '--unset', 'C_KEY'],
      repo,
      env,
      'bravo-from-stdin\n',
    );
    assert.equal(run.code, 0, run.out);
    assert.match(run.stderr, /^secrets\/api\.prod\.enc\.yaml: added D_KEY; changed B_KEY; removed C_KEY \(/);
    assert.doesNotMatch(run.out, /alpha|bravo|charlie|delta|AGE-SECRET/);
    assert.equal(
      await workerReads(repo, PROD, worker.identity),
      'A_KEY=alpha-1111\nB_KEY=bravo-from-stdin\nD_KEY=delta-4444\n',
    );
    const same = await fjord(['secrets', 'set', 'api', 'prod', 'A_KEY=alpha-1111'], repo, env);
    assert.equal(same.stderr, `${PROD}: no change\n`);
    // The identity file where sops looks for it works as well as SOPS_AGE_KEY.
    mkdirSync(join(repo, '.config/sops/age'), { recursive: true });
    writeFileSync(
      join(repo, '.config/sops/age/keys.txt'),
      `# created: 2026-12-03\n# public key: ${person.recipient}\n${person.identity}\n`,
    );
    assert.equal((await fjord(['secrets', 'set', 'api', 'prod', '--unset', 'D_KEY'], repo)).code, 0);
    assert.equal(await workerReads(repo, PROD, worker.identity), 'A_KEY=alpha-1111\nB_KEY=bravo-from-stdin\n');
  });

  it('rotate re-encrypts with a fresh data key to the recipients .sops.yaml declares now: an added key can read it, a removed one cannot', async () => {
    const repo = checkout([worker.recipient, person.recipient]);
    assert.equal((await fjord(['secrets', 'set', 'api', 'prod', 'TOKEN=tok-rotate-1'], repo)).code, 0);
    const before = readFileSync(join(repo, PROD), 'utf8');
    const newcomer = await keyPair();
    sopsYaml(repo, [worker.recipient, newcomer.recipient]); // the person leaves, a newcomer joins
    const run = await fjord(['secrets', 'rotate', 'api', 'prod'], repo, { SOPS_AGE_KEY: person.identity });
    assert.equal(run.code, 0, run.out);
    assert.match(
      run.stderr,
      /^secrets\/api\.prod\.enc\.yaml: new data key; no change \(encrypted to 2 recipients of \.sops\.yaml\)/,
    );
    const text = readFileSync(join(repo, PROD), 'utf8');
    assert.notEqual(/TOKEN: (\S+)/.exec(text)![1], /TOKEN: (\S+)/.exec(before)![1], 'the value is encrypted again');
    assert.equal(await workerReads(repo, PROD, newcomer.identity), 'TOKEN=tok-rotate-1\n');
    assert.equal(await workerReads(repo, PROD, worker.identity), 'TOKEN=tok-rotate-1\n');
    await assert.rejects(workerReads(repo, PROD, person.identity), SecretsIdentityMismatch);
    // The person is no longer a recipient: the CLI says so in the person's terms, and writes nothing.
    const denied = await fjord(['secrets', 'set', 'api', 'prod', 'TOKEN=x-999999'], repo, {
      SOPS_AGE_KEY: person.identity,
    });
    assert.equal(denied.code, 1);
    assert.match(
      denied.stderr,
      /^fjord: secrets file secrets\/api\.prod\.enc\.yaml: no age identity of yours \(SOPS_AGE_KEY, SOPS_AGE_KEY_FILE or ~\/\.config\/sops\/age\/keys\.txt\) is a recipient/,
    );
    assert.equal(readFileSync(join(repo, PROD), 'utf8'), text);
  });

  it('edit opens the KEY=VALUE lines in $EDITOR from a 0600 temp file, removed afterwards, and encrypts what was saved', async () => {
    const repo = checkout([worker.recipient, person.recipient]);
    assert.equal((await fjord(['secrets', 'set', 'api', 'prod', 'KEEP=keep-5555', 'DROP=drop-6666'], repo)).code, 0);
    const seen = join(repo, 'editor-saw');
    const editor = join(repo, 'editor.sh');
    writeFileSync(
      editor,
      `#!/bin/sh\nstat -c '%a' "$1" > "${seen}"\necho "$1" >> "${seen}"\nsed -i '/^DROP=/d' "$1"\necho 'ADDED=added-7777' >> "$1"\n`,
    );
    chmodSync(editor, 0o755);
    const run = await fjord(['secrets', 'edit', 'api', 'prod'], repo, {
      SOPS_AGE_KEY: person.identity,
      EDITOR: editor,
    });
    assert.equal(run.code, 0, run.out);
    assert.match(run.stderr, /: added ADDED; removed DROP \(/);
    const [mode, temp] = readFileSync(seen, 'utf8').trim().split('\n');
    assert.equal(mode, '600');
    assert.equal(existsSync(temp!), false, 'the decrypted temp file is gone');
    assert.equal(await workerReads(repo, PROD, worker.identity), 'ADDED=added-7777\nKEEP=keep-5555\n');
    const before = readFileSync(join(repo, PROD), 'utf8');
    const failed = await fjord(['secrets', 'edit', 'api', 'prod'], repo, {
      SOPS_AGE_KEY: person.identity,
      EDITOR: 'false',
    });
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /the editor "false" exited with 1; nothing written/);
    assert.equal(readFileSync(join(repo, PROD), 'utf8'), before);
  });

  it('an age-encrypted dotenv file (*.age) is written armored to the same recipients and read by the worker', async () => {
    const repo = checkout([worker.recipient]);
    const run = await fjord(['secrets', 'set', 'api', 'dev', 'Z_KEY=zulu-8888', 'A_KEY=alpha-8888'], repo);
    assert.equal(run.code, 0, run.out);
    assert.match(readFileSync(join(repo, DEV), 'utf8'), /^-----BEGIN AGE ENCRYPTED FILE-----\n/);
    assert.equal(await workerReads(repo, DEV, worker.identity), 'A_KEY=alpha-8888\nZ_KEY=zulu-8888\n');
  });

  it('refuses what the worker would refuse, or a file no .sops.yaml rule covers, and writes nothing', async () => {
    const repo = checkout([worker.recipient]);
    const cases: [string[], number, RegExp, string?][] = [
      [['secrets', 'set', 'api', 'prod', 'not-a-name=v'], 1, /"not-a-name" is not an environment variable name/],
      [
        ['secrets', 'set', 'api', 'prod', 'MULTI'],
        1,
        /the value of MULTI contains a newline/,
        'line-1\nline-2-secret\n',
      ],
      [['secrets', 'set', 'api', 'plain', 'A=b'], 2, /apps\.api\.environments\.plain\.secrets\.file is not set/],
      [['secrets', 'set', 'api', 'nope', 'A=b'], 2, /fjord\.yaml has no environment api\/nope/],
      [['secrets', 'set', 'api', 'prod'], 2, /give KEY=VALUE/],
      [['secrets', 'rotate', 'api', 'prod'], 1, /does not exist yet/],
    ];
    for (const [args, code, message, stdin] of cases) {
      const run = await fjord(args, repo, {}, stdin);
      assert.equal(run.code, code, `${args.join(' ')}: ${run.out}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.out, /line-2-secret/);
    }
    rmSync(join(repo, '.sops.yaml'));
    const none = await fjord(['secrets', 'set', 'api', 'prod', 'A=b'], repo);
    assert.equal(none.code, 1);
    assert.match(
      none.stderr,
      /secrets\/api\.prod\.enc\.yaml: no \.sops\.yaml between it and the repository root declares its recipients/,
    );
    assert.equal(
      existsSync(join(repo, 'secrets')) && readdirSync(join(repo, 'secrets')).length > 0,
      false,
      'nothing written',
    );
  });
});
