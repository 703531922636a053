/**
 * Secrets Manager → the environment variables fjord.yaml names, once per Lambda cold start.
 * `FJORD_SECRET_ARNS` maps variable names to secret ARNs (set by infra/, one secret per value):
 * `{"FJORD_GITLAB_SECRET":"arn:aws:secretsmanager:…"}`. Values never go into the CloudFormation template
 * or the function's configuration; each function's role may read only the secrets in its own map.
 */
import type { SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../errors.js';

/** `env` with every secret of `FJORD_SECRET_ARNS` filled in (a copy; `env` itself unchanged). */
export async function withAwsSecrets(
  env: NodeJS.ProcessEnv = process.env,
  /** SecretsManagerClient settings (tests: a local endpoint); default: the Lambda role and region. */
  clientConfig: SecretsManagerClientConfig = {},
): Promise<NodeJS.ProcessEnv> {
  const map = parseSecretArns(env.FJORD_SECRET_ARNS);
  if (Object.keys(map).length === 0) return env;
  // Loaded only here: the receiver on other runtimes and the tests never pull in this client.
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient(clientConfig);
  try {
    const values = await Promise.all(
      Object.entries(map).map(async ([name, arn]) => {
        const out = await client.send(new GetSecretValueCommand({ SecretId: arn }));
        if (out.SecretString === undefined) throw new ConfigError([`FJORD_SECRET_ARNS.${name}: secret ${arn} has no string value`], 'environment');
        return [name, out.SecretString] as const;
      }),
    );
    return { ...env, ...Object.fromEntries(values) };
  } finally {
    client.destroy();
  }
}

/** The `FJORD_SECRET_ARNS` map, checked: variable names → secret ARNs. */
export function parseSecretArns(raw: string | undefined): Record<string, string> {
  if (!raw || raw.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(['FJORD_SECRET_ARNS: not JSON (an object of variable name → secret ARN)'], 'environment');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(['FJORD_SECRET_ARNS: must be a JSON object'], 'environment');
  const issues = Object.entries(parsed).flatMap(([k, v]) =>
    typeof v === 'string' && /^arn:aws[a-z-]*:secretsmanager:/.test(v) ? [] : [`FJORD_SECRET_ARNS.${k}: not a Secrets Manager ARN`],
  );
  if (issues.length > 0) throw new ConfigError(issues, 'environment');
  return parsed as Record<string, string>;
}
