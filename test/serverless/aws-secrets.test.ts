import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseSecretArns, withAwsSecrets } from '../../lib/config/aws-secrets.js';
import { ConfigError } from '../../lib/errors.js';
import { startSecretsStandIn, type SecretsStandIn } from '../fixtures/secrets-manager.js';

const ARN = (name: string) => `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${name}-AbCdEf`;

describe('Secrets Manager values into the environment (FJORD_SECRET_ARNS)', () => {
  let sm: SecretsStandIn;
  before(
    async () =>
      (sm = await startSecretsStandIn({
        [ARN('fjord/gitlab-token')]: 'glpat-123',
        [ARN('fjord/ssh-key')]: '-----BEGIN OPENSSH PRIVATE KEY-----\nx\n',
      })),
  );
  after(() => sm.stop());
  const client = () => ({
    endpoint: sm.endpoint,
    region: 'eu-central-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });

  it('fills each named variable from its secret, leaving the input env unchanged', async () => {
    const env = {
      FJORD_SECRET_ARNS: JSON.stringify({
        GITLAB_TOKEN: ARN('fjord/gitlab-token'),
        FJORD_SSH_KEY: ARN('fjord/ssh-key'),
      }),
      OTHER: '1',
    };
    const out = await withAwsSecrets(env, client());
    assert.equal(out.GITLAB_TOKEN, 'glpat-123');
    assert.match(out.FJORD_SSH_KEY!, /^-----BEGIN OPENSSH/);
    assert.equal(out.OTHER, '1');
    assert.equal('GITLAB_TOKEN' in env, false);
    assert.deepEqual([...sm.asked].sort(), [ARN('fjord/gitlab-token'), ARN('fjord/ssh-key')]);
  });

  it('without FJORD_SECRET_ARNS asks nothing; a missing secret fails the cold start', async () => {
    const before = sm.asked.length;
    const env = { A: '1' };
    assert.equal(await withAwsSecrets(env, client()), env);
    assert.equal(sm.asked.length, before);
    await assert.rejects(
      withAwsSecrets({ FJORD_SECRET_ARNS: JSON.stringify({ X: ARN('nope') }) }, client()),
      /can't find/,
    );
  });

  it('rejects a map that is not JSON, not an object, or holds something other than a secret ARN', () => {
    assert.throws(() => parseSecretArns('{'), ConfigError);
    assert.throws(() => parseSecretArns('["a"]'), ConfigError);
    assert.throws(() => parseSecretArns('{"X":"arn:aws:ssm:eu-central-1:1:parameter/x"}'), /FJORD_SECRET_ARNS.X/);
    assert.deepEqual(parseSecretArns(''), {});
  });
});
