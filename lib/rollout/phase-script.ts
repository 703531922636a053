/**
 * One remote script per phase of a host's rollout (issue 15, item 2): the phase's commands run one after
 * the other in ONE SSH exec instead of one round trip each, and the script reports every command's exit
 * status, start and end time, stdout and stderr, so each command is still judged as its own named step
 * with its own error (`StepRunner.phase`). The script stops at the first command that fails, unless that
 * one may fail (`mayFail`, `go`). Every command is a list of words quoted by lib/ssh/quote.ts, so the
 * only shell syntax is the constant prelude; at most one command reads the script's stdin (the env file).
 */
import { joinArgv } from '../ssh/quote.js';
import type { Cmd } from './host-command-types.js';

export interface PhaseCmd extends Cmd {
  /** The phase goes on after a non-zero exit; the command's `read` judges it (an inspect of a missing container). */
  go?: boolean;
  /** Judges the result in place of the exit status (throws to fail the step): the lock's `LockHeld`, the inspect's missing container. */
  check?: (r: PhaseResult) => void;
  /** The command's own budget on the host in place of the phase's per-command one (a health check loop runs longer). */
  budgetMs?: number;
}

/** What the host reported for one command of a phase. */
export interface PhaseResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  /** Milliseconds the command took on the host (undefined when its `date` has no `%N`). */
  ms?: number;
}

// Each command runs within its budget in whole seconds (coreutils or busybox `timeout`, when the host has one),
// so a command that hangs ends as itself and the step it hung in is known. `command "$@"` never runs a function.
// FJORD_PHASE_NS: when the phase began, for a command that waits relative to it (health-loop.ts, the settle window).
const PRELUDE = [
  'd=$(mktemp -d) || exit 70',
  `trap 'rm -rf "$d"' EXIT`,
  'if command -v timeout >/dev/null 2>&1; then fjord_t=1; else fjord_t=; fi',
  // Few processes per command on a busy host: one `date`, and base64 only for an output that is not empty.
  'fjord_b64() { if [ -s "$1" ]; then base64 < "$1" | tr -d "\\n"; fi; }',
  'fjord_run() { t=$1; shift; if [ -n "$fjord_t" ]; then timeout -k 2 "$t" "$@"; else command "$@"; fi; }',
  'e=$(date +%s%N); FJORD_PHASE_NS=$e; export FJORD_PHASE_NS',
  'fjord_step() {',
  '  i=$1; go=$2; in=$3; t=$4; shift 4; s=$e',
  '  if [ "$in" = 1 ]; then fjord_run "$t" "$@" > "$d/o" 2> "$d/e"; else fjord_run "$t" "$@" < /dev/null > "$d/o" 2> "$d/e"; fi',
  '  c=$?; e=$(date +%s%N)',
  '  printf "fjord-step %s %s %s %s " "$i" "$c" "$s" "$e"; fjord_b64 "$d/o"; printf " "; fjord_b64 "$d/e"; printf "\\n"',
  '  [ "$c" = 0 ] || [ "$go" = 1 ] || exit 0',
  '}',
].join('\n');

const seconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

/** argv of the script running `cmds` in order, each within its `budgetMs`, else within `budgetMs`. */
export function phaseScript(cmds: readonly PhaseCmd[], budgetMs: number): string[] {
  if (cmds.filter((c) => c.stdin).length > 1) throw new Error('a phase script passes its stdin to one command at most');
  const lines = cmds.map((c, i) =>
    joinArgv([
      'fjord_step',
      String(i),
      c.mayFail || c.go ? '1' : '0',
      c.stdin ? '1' : '0',
      seconds(c.budgetMs ?? budgetMs),
      ...c.argv,
    ]),
  );
  return ['sh', '-c', `${PRELUDE}\n${lines.join('\n')}`, 'fjord-phase'];
}

const FRAME = /^fjord-step (\d+) (\d+) (\S+) (\S+) ([A-Za-z0-9+/=]*) ([A-Za-z0-9+/=]*)$/;
const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');
const ns = (t: string) => (/^\d{12,}$/.test(t) ? Number(t) : NaN);

/** The results the script reported, by command index (commands it never reached are absent). */
export function parsePhase(stdout: string): PhaseResult[] {
  const results: PhaseResult[] = [];
  for (const line of stdout.split('\n')) {
    const m = FRAME.exec(line);
    if (!m) continue;
    const ms = (ns(m[4]!) - ns(m[3]!)) / 1e6;
    results[Number(m[1])] = {
      exitCode: Number(m[2]),
      stdout: text(m[5]!),
      stderr: text(m[6]!),
      ...(Number.isFinite(ms) ? { ms: Math.round(ms) } : {}),
    };
  }
  return results;
}
