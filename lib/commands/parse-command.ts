/**
 * The text of a `/fjord …` comment → verb and arguments, or help with the problem. Pure. Only the first
 * line counts; anything that is not exactly one of the forms below becomes `help` (never an error status).
 *
 *   /fjord plan · /fjord deploy <env> [--tag T] · /fjord rollback <env> [--to T] · /fjord hold <env> [reason…]
 *   /fjord release <env> · /fjord unlock <env> · /fjord approve [<env>] · /fjord reject [<env> [reason…]]
 *   /fjord help
 */
import { cleanText, NAME, TAG } from '../grammar.js';
import { VERBS, type CommandOrder, type Verb } from './command-schema.js';

export type ParsedCommand = Pick<CommandOrder, 'verb' | 'environment' | 'tag' | 'reason' | 'problem'>;

const PREFIX = /^\/fjord(?:\s|$)/;

/** Whether a comment is addressed to fjord at all (others are ignored with 200). */
export const isCommand = (text: string): boolean => PREFIX.test(text.trimStart());

const help = (problem?: string): ParsedCommand => ({
  verb: 'help',
  ...(problem ? { problem: cleanText(problem).slice(0, 200) } : {}),
});
const shown = (word: string) => JSON.stringify(word.slice(0, 40));

export function parseCommand(text: string): ParsedCommand {
  const words = (text.trimStart().split('\n')[0] ?? '').trim().split(/\s+/).slice(1);
  const [verb, ...args] = words;
  if (verb === undefined || verb === 'help') return help();
  if (!(VERBS as readonly string[]).includes(verb)) return help(`unknown command ${shown(verb)}`);
  const v = verb as Verb;
  if (v === 'plan') return args.length ? help('plan takes no arguments') : { verb: v };
  const [environment, ...rest] = args;
  if ((v === 'approve' || v === 'reject') && environment === undefined) return { verb: v };
  if (environment === undefined) return help(`${v} needs an environment`);
  if (!NAME.test(environment)) return help(`${shown(environment)} is not an environment name`);
  if (v === 'hold' || v === 'reject') {
    const reason = cleanText(rest.join(' ')).slice(0, 200);
    return { verb: v, environment, ...(reason ? { reason } : {}) };
  }
  const flag = v === 'deploy' ? '--tag' : v === 'rollback' ? '--to' : undefined;
  if (rest.length === 0) return { verb: v, environment };
  if (flag && rest.length === 2 && rest[0] === flag) {
    if (!TAG.test(rest[1]!)) return help(`${shown(rest[1]!)} is not an image tag`);
    return { verb: v, environment, tag: rest[1]! };
  }
  return help(`unexpected ${shown(rest.join(' '))} after ${v} ${environment}`);
}

export const HELP_TEXT = [
  'fjord commands (a comment starting with `/fjord`):',
  '- `/fjord plan`: what merging this MR deploys',
  "- `/fjord deploy <env> [--tag T]`: deploy this MR's image (or tag T) to <env> now",
  '- `/fjord rollback <env> [--to T]`: roll <env> back (to the previous tag, or T) and hold it',
  '- `/fjord hold <env> [reason]`: merges are committed, nothing rolls out to <env> until released',
  '- `/fjord release <env>`: release <env> and roll it out to what the manifest says',
  '- `/fjord unlock <env>`: clear host locks of <env> left by a deploy that died',
  '- `/fjord approve [<env>]`: approve a deploy waiting for approval',
  '- `/fjord reject [<env> [reason]]`: refuse a deploy waiting for approval',
].join('\n');
