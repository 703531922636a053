/**
 * The new container's checks as commands of ONE phase script (issue 15, item 2): the health check's
 * probe loop runs on the host (probe, interval, deadline, and after each failing probe the container's
 * state, so a crash loop ends it early), then the settle check (`docker inspect` once the settle window
 * has passed). The loop reports every probe (exit status, start and end time, output) and every state
 * it read, so the transcript, the step names and the errors are those of `checkHealth` + `checkStarted`
 * run probe by probe from here, without one SSH round trip per probe. The loop's rules are the same as
 * `healthPassed` and `notStarted`; the host stops on them, and this side judges again from the report.
 */
import { CommandFailed, tail } from '../ssh/errors.js';
import { notStarted, parseContainerState } from './container-state.js';
import { dockerInspectStarted, STARTED_FORMAT, STARTED_LINE } from './docker-commands.js';
import { ContainerNotRunning, HealthCheckFailed } from './errors.js';
import { failedAttempt, flappingNote, probeRecord } from './check-health.js';
import {
  attemptBudgetMs,
  healthPassed,
  healthProbe,
  healthUrl,
  parseProbe,
  type HealthCheck,
} from './health-commands.js';
import type { PhaseCmd, PhaseResult } from './phase-script.js';
import type { HealthProbeRecord, Step } from './types.js';

// $1 time left (ms), $2 interval (ms), $3 passes needed in a row, $4 http|command, $5 the statuses that pass
// (case patterns), $6 one probe's budget (s), $7 the inspect format, $8 the container ('' none); then the probe.
// Exit: 0 healthy, 1 deadline passed, 2 the container is not running, 3 its inspect failed.
const LOOP = [
  'd=$(mktemp -d) || exit 70',
  `trap 'rm -rf "$d"' EXIT`,
  'fjord_now() { t=$(date +%s%N); case $t in ""|*[!0-9]*) t=$(($(date +%s) * 1000000000));; esac; echo "$t"; }',
  'fjord_b64() { if [ -s "$1" ]; then base64 < "$1" | tr -d "\\n"; fi; }',
  't0=$(fjord_now); end=$((t0 + $1 * 1000000)); iv=$(($2 * 1000000)); need=$3; mode=$4; codes=$5; fmt=$7; ctr=$8',
  'if command -v timeout >/dev/null 2>&1; then lim="timeout -k 1 $6"; else lim=command; fi',
  'shift 8; streak=0',
  'while :; do',
  '  s=$(fjord_now); $lim "$@" < /dev/null > "$d/o" 2> "$d/e"; c=$?; e=$(fjord_now)',
  '  printf "fjord-probe %s %s %s " "$c" "$s" "$e"; fjord_b64 "$d/o"; printf " "; fjord_b64 "$d/e"; printf "\\n"',
  '  pass=0',
  '  if [ "$mode" = command ]; then [ "$c" = 0 ] && pass=1; else',
  // The HTTP probe's last stderr line is `fjord-probe <status> <curl exit>` (health-commands.ts).
  '    l=$(tail -n 1 "$d/e")',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: POSIX shell parameter expansion, run by the host's shell
  '    case $l in "fjord-probe "[0-9][0-9][0-9]" 0") code=${l#fjord-probe }; code=${code% 0}',
  '      for p in $codes; do case $code in $p) pass=1;; esac; done;; esac',
  '  fi',
  '  if [ "$pass" = 1 ]; then streak=$((streak + 1)); [ "$streak" -ge "$need" ] && exit 0',
  '  else',
  '    streak=0',
  '    if [ -n "$ctr" ]; then',
  '      docker inspect --type container --format "$fmt" "$ctr" < /dev/null > "$d/o" 2> "$d/e"; c=$?',
  '      printf "fjord-state %s " "$c"; fjord_b64 "$d/o"; printf " "; fjord_b64 "$d/e"; printf "\\n"',
  '      [ "$c" = 0 ] || exit 3',
  `      [ "$(sed -n 2p "$d/o")" = "${STARTED_LINE}" ] || exit 2`,
  '    fi',
  '  fi',
  '  n=$(fjord_now); w=$((iv - (n - s))); [ "$w" -gt 0 ] || w=0',
  '  [ $((n + w)) -lt "$end" ] || exit 1',
  '  if [ "$w" -gt 0 ]; then sleep "$((w / 1000000000)).$(printf %09d $((w % 1000000000)))"; fi',
  'done',
].join('\n');

// $1 settle window (ms), $2 of it already passed when the phase began (ms), $3 the inspect format, $4 the container.
// Exit: the inspect's own status when it failed, NOT_STARTED when the container does not count as started (the
// phase then stops here: nothing after it runs), else 0.
const NOT_STARTED = 86;
const SETTLE = [
  'n=$(date +%s%N); case $n$FJORD_PHASE_NS in *[!0-9]*) w=$((($1 - $2) * 1000000));; *) w=$((FJORD_PHASE_NS + ($1 - $2) * 1000000 - n));; esac',
  'if [ "$w" -gt 0 ]; then sleep "$((w / 1000000000)).$(printf %09d $((w % 1000000000)))"; fi',
  'out=$(docker inspect --type container --format "$3" "$4" < /dev/null); c=$?',
  'printf "%s\\n" "$out"; [ "$c" = 0 ] || exit "$c"',
  `[ "$(printf "%s\\n" "$out" | sed -n 2p)" = "${STARTED_LINE}" ] || exit ${NOT_STARTED}`,
].join('\n');

const FRAME = /^fjord-(probe|state) (\d+) (?:(\d+) (\d+) )?([A-Za-z0-9+/=]*) ([A-Za-z0-9+/=]*)$/;
const text = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

type Frame = { probe: PhaseResult; start: number; end: number } | { state: PhaseResult };

/** What the loop reported: each probe, and each state read after a failing one. */
function frames(stdout: string): Frame[] {
  return stdout.split('\n').flatMap((line): Frame[] => {
    const m = FRAME.exec(line);
    if (!m) return [];
    const r = { exitCode: Number(m[2]), stdout: text(m[5]!), stderr: text(m[6]!) };
    return [m[1] === 'probe' ? { probe: r, start: Number(m[3]) / 1e6, end: Number(m[4]) / 1e6 } : { state: r }];
  });
}

/**
 * The error a state read says (undefined: the container counts as started). `judged`: the host found it not
 * started (its line is not `STARTED_LINE`), which fails it even if this side read the state otherwise.
 */
function stateError(
  host: string,
  container: string,
  r: PhaseResult,
  o: { when: string; step: Step; judged?: boolean },
) {
  if (r.exitCode !== 0 && !o.judged)
    return new CommandFailed(host, dockerInspectStarted(container), r.exitCode, r.stderr, o.step);
  const state = parseContainerState(r.stdout);
  const reason = notStarted(state) ?? (o.judged ? `not running (${r.stdout.split('\n')[1] ?? ''})` : undefined);
  return reason ? new ContainerNotRunning(host, container, state, reason, o.when) : undefined;
}

export interface HealthLoopOptions {
  host: string;
  /** Time the loop may run: the health check's timeout, or less when the host's deadline is sooner. */
  leftMs: number;
  /** The new container: its state is read after each failing probe (undefined: none to read). */
  container?: string | undefined;
  /** Every probe lands here, also when the check fails (the failure report's transcript). */
  transcript: HealthProbeRecord[];
}

/** The `health` step: the probe loop on the host; its check fills `transcript` and throws as `checkHealth` would. */
export function healthLoopCommand(hc: HealthCheck, o: HealthLoopOptions): PhaseCmd {
  const http = !('command' in hc);
  const codes = http ? (hc.status?.map(String) ?? ['2[0-9][0-9]']) : [];
  const attemptMs = attemptBudgetMs(hc);
  const leftMs = Math.max(1, Math.round(o.leftMs));
  const argv = [
    'sh',
    '-c',
    LOOP,
    'fjord-health',
    String(leftMs),
    String(hc.interval),
    String(hc.successes ?? 1),
    http ? 'http' : 'command',
    codes.join(' '),
    String(Math.ceil(attemptMs / 1000) + 2),
    STARTED_FORMAT,
    o.container ?? '',
    ...healthProbe(hc, attemptMs),
  ];
  const check = (r: PhaseResult) => {
    const needed = hc.successes ?? 1;
    const target = 'command' in hc ? hc.command.join(' ') : healthUrl(hc);
    let streak = 0;
    let passes = 0;
    let last = 'none ran';
    let stderr = '';
    let first: number | undefined;
    let lastEnd: number | undefined;
    let state: PhaseResult | undefined;
    for (const f of frames(r.stdout)) {
      if ('state' in f) {
        state = f.state;
        const err =
          o.container && stateError(o.host, o.container, f.state, { when: 'during its health check', step: 'health' });
        if (err) throw err;
        continue;
      }
      first ??= f.start;
      lastEnd = f.end;
      const p = parseProbe(hc, f.probe);
      o.transcript.push(probeRecord(target, p, f.start, f.end - f.start));
      if (healthPassed(hc, p)) {
        passes++;
        if (++streak >= needed && r.exitCode === 0) return;
      } else {
        streak = 0;
        ({ last, stderr } = failedAttempt(hc, p, f.probe.stderr));
      }
    }
    // The host found the container not started where this side did not: it still fails (nothing after it ran).
    if (r.exitCode === 2 && o.container && state)
      throw stateError(o.host, o.container, state, { when: 'during its health check', step: 'health', judged: true })!;
    if (r.exitCode !== 0 && r.exitCode !== 1)
      throw new CommandFailed(o.host, argv.slice(0, 4), r.exitCode, r.stderr, 'health');
    const ms = r.ms ?? Math.round((lastEnd ?? 0) - (first ?? 0));
    throw new HealthCheckFailed(o.host, ms, last + flappingNote(passes, needed), tail(stderr));
  };
  return { step: 'health', argv, check, budgetMs: leftMs + attemptMs + 5000 };
}

/**
 * The settle check (`start` step): once `settleMs` have passed since the phase began (minus `passedMs`
 * already passed before it), the container must be running, not restarting, never restarted.
 */
export function settleCommand(
  host: string,
  container: string,
  { settleMs, passedMs, when }: { settleMs: number; passedMs: number; when: string },
): PhaseCmd {
  return {
    step: 'start',
    argv: [
      'sh',
      '-c',
      SETTLE,
      'fjord-settle',
      String(settleMs),
      String(Math.round(passedMs)),
      STARTED_FORMAT,
      container,
    ],
    budgetMs: settleMs + 10_000,
    check: (r) => {
      const err = stateError(host, container, r, { when, step: 'start', judged: r.exitCode === NOT_STARTED });
      if (err) throw err;
    },
  };
}
