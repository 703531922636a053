/**
 * Secrets Manager → the environment variables fjord.yaml names, once per Lambda cold start.
 * `FJORD_SECRET_ARNS` maps variable names to secret ARNs (set by infra/, one secret per value):
 * `{"FJORD_GITLAB_SECRET":"arn:aws:secretsmanager:…"}`. Values never go into the CloudFormation template
 * or the function's configuration; each function's role may read only the secrets in its own map.
 */
import { AwsClient } from 'aws4fetch';
import { readAwsJsonReply } from '../aws-json-reply.js';
import { ConfigError } from '../errors.js';

/** Where and as whom to ask; default: the function's region and role keys (Lambda puts both in its environment). */
export interface SecretsManagerOptions {
  /** Another endpoint (tests); default `https://secretsmanager.<region>.amazonaws.com`. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/**
 * `env` with every secret of `FJORD_SECRET_ARNS` filled in (a copy; `env` itself unchanged).
 * One signed `GetSecretValue` per secret (AWS JSON 1.1, `X-Amz-Target: secretsmanager.GetSecretValue`,
 * docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html), SigV4 by aws4fetch:
 * the Secrets Manager SDK client would add ~200 KB of bundle and its module compile to every cold start
 * for this one call.
 */
export async function withAwsSecrets(
  env: NodeJS.ProcessEnv = process.env,
  options: SecretsManagerOptions = {},
): Promise<NodeJS.ProcessEnv> {
  const map = parseSecretArns(env.FJORD_SECRET_ARNS);
  if (Object.keys(map).length === 0) return env;
  const region = options.region ?? (env.AWS_REGION?.trim() || env.AWS_DEFAULT_REGION?.trim());
  const credentials = options.credentials ?? credentialsOf(env);
  if (!region || !credentials) {
    throw new ConfigError(
      [
        'FJORD_SECRET_ARNS: reading Secrets Manager needs AWS_REGION and the role keys (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) in the environment',
      ],
      'environment',
    );
  }
  const aws = new AwsClient({ ...credentials, service: 'secretsmanager', region, retries: 2 });
  const endpoint = (options.endpoint ?? `https://secretsmanager.${region}.amazonaws.com`).replace(/\/+$/, '') + '/';
  const values = await Promise.all(
    Object.entries(map).map(async ([name, arn]) => [name, await getSecretString(aws, endpoint, name, arn)] as const),
  );
  return { ...env, ...Object.fromEntries(values) };
}

async function getSecretString(aws: AwsClient, endpoint: string, name: string, arn: string): Promise<string> {
  const response = await aws.fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'secretsmanager.GetSecretValue' },
    body: JSON.stringify({ SecretId: arn }),
  });
  const { body, problem } = await readAwsJsonReply<{ SecretString: unknown }>(response);
  if (!response.ok) throw new ConfigError([`FJORD_SECRET_ARNS.${name}: Secrets Manager ${problem}`], 'environment');
  if (typeof body.SecretString !== 'string')
    throw new ConfigError([`FJORD_SECRET_ARNS.${name}: secret ${arn} has no string value`], 'environment');
  return body.SecretString;
}

function credentialsOf(env: NodeJS.ProcessEnv): SecretsManagerOptions['credentials'] {
  const {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_SESSION_TOKEN: sessionToken,
  } = env;
  if (!accessKeyId || !secretAccessKey) return undefined;
  return { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}) };
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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new ConfigError(['FJORD_SECRET_ARNS: must be a JSON object'], 'environment');
  const issues = Object.entries(parsed).flatMap(([k, v]) =>
    typeof v === 'string' && /^arn:aws[a-z-]*:secretsmanager:/.test(v)
      ? []
      : [`FJORD_SECRET_ARNS.${k}: not a Secrets Manager ARN`],
  );
  if (issues.length > 0) throw new ConfigError(issues, 'environment');
  return parsed as Record<string, string>;
}
