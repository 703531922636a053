/**
 * The docker strategy behind the host's proxy (zero downtime): the new container starts on the free one
 * of two slot ports, is health-checked there directly, the proxy's upstream is switched to it, the old
 * container drains for `drain` (its in-flight requests finish), then is stopped and removed, and the new
 * one takes the app's name. The slot is a fjord label on the container, so the next deploy, rollback or
 * heal takes the other one. The proxy is checked first: missing or down, nothing is stopped or started.
 */
import type { RolloutConfig } from '../../config/schema.js';
import {
  containerName,
  dockerPull,
  dockerRemove,
  dockerRename,
  dockerRun,
  dockerStop,
  nextName,
} from '../docker-commands.js';
import type { Cmd, HostCommands, HostTarget } from '../host-command-types.js';
import type { RunningImage } from '../types.js';
import { nginxSwitch } from './nginx.js';
import { ProxySwitchFailed, ProxyUnavailable } from './proxy-errors.js';
import { upstreamName, type TrafficSwitch } from './traffic-switch.js';

export type ProxyConfig = NonNullable<RolloutConfig['proxy']>;

/** The label holding the slot port a container was published on. */
export const SLOT_LABEL = 'fjord.slot';

/** The slot port `running` holds (undefined: nothing runs, or it was not started behind the proxy). */
export function slotOf(running: RunningImage | undefined): number | undefined {
  const slot = Number(running?.labels[SLOT_LABEL]);
  return Number.isInteger(slot) && slot > 0 ? slot : undefined;
}

/** The slot the next container takes: the one `running` does not hold. */
export const nextSlot = (proxy: ProxyConfig, running: RunningImage | undefined): number =>
  slotOf(running) === proxy.hostPorts[0] ? proxy.hostPorts[1] : proxy.hostPorts[0];

/** `-p` of a slot: on `bind`, or with `engine` on the engine's default address (dockerd `--ip`). */
export const slotPublish = (proxy: ProxyConfig, slot: number): string =>
  proxy.bind === 'engine' ? `${slot}:${proxy.containerPort}` : `${proxy.bind}:${slot}:${proxy.containerPort}`;

/** The app's TrafficSwitch on its host's proxy. */
export function trafficSwitch(app: string, environment: string, proxy: ProxyConfig): TrafficSwitch {
  return nginxSwitch({
    upstreamFile: proxy.upstreamFile ?? `/etc/nginx/fjord/${app}-${environment}.conf`,
    upstream: upstreamName(app, environment),
    pidFile: proxy.pidFile,
  });
}

/** Seconds for `sleep`, to the millisecond. */
const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** The proxy's check as the host's first command: a failure is `ProxyUnavailable`. */
const checkCmd = (sw: TrafficSwitch): Cmd => ({
  step: 'proxy',
  argv: sw.check(),
  explain: (f) => new ProxyUnavailable(f.host, sw.kind, f),
});

const switchCmd = (sw: TrafficSwitch, container: string, port: number): Cmd => ({
  step: 'switch',
  argv: sw.switchToContainer(container, port),
  explain: (f) => new ProxySwitchFailed(f.host, sw.kind, container, f),
});

/** Commands that put `t.ref` on the host through the proxy; `current` is what runs (and serves) now. */
export function proxyDockerCommands(
  t: HostTarget & { ref: string; proxy: ProxyConfig },
  current: RunningImage | undefined,
  record: Cmd,
): HostCommands {
  const p = t.proxy;
  const name = containerName(t.app, t.environment, t.rollout.container);
  const next = nextName(name);
  const slot = nextSlot(p, current);
  const sw = trafficSwitch(t.app, t.environment, p);
  // The slot is the only port published: the proxy is the app's front door.
  const spec = {
    app: t.app,
    environment: t.environment,
    jobId: t.jobId,
    ref: t.ref,
    tag: t.tag,
    container: { ...t.rollout.container, ports: [slotPublish(p, slot)] },
    ...(t.secrets ? { secrets: t.secrets } : {}),
  };
  const old = current?.container ?? name;
  return {
    before: [
      checkCmd(sw),
      ...(t.pulled ? [] : [{ step: 'pull' as const, argv: dockerPull(t.ref) }]),
      { step: 'start', argv: dockerRemove(next), mayFail: true }, // left over from an interrupted rollout
      { step: 'start', argv: dockerRun(spec, next, [`${SLOT_LABEL}=${slot}`]), undo: dockerRemove(next) },
    ],
    started: next,
    probes: { container: next, containerPort: p.containerPort },
    after: [
      switchCmd(sw, next, p.containerPort),
      ...(current
        ? [
            { step: 'drain' as const, argv: ['sleep', seconds(p.drain)] },
            // Off the request path now: a PID 1 that ignores SIGTERM costs the host's time, not requests.
            { step: 'stop' as const, argv: dockerStop(old, t.rollout.container.stopTimeout) },
            { step: 'switch' as const, argv: dockerRemove(old) },
          ]
        : []),
      { step: 'switch', argv: dockerRename(next, name) },
      record,
    ],
  };
}

/**
 * Rolling back a host whose old container still runs `back` (it failed before, or right after, its switch):
 * the proxy pointed at the old container again, the new one drained and removed; nothing restarted.
 * Undefined when that is not the case (then the rollback is a deploy of `back`, through the proxy too).
 */
export function keptRollbackCommands(
  t: HostTarget,
  current: RunningImage | undefined,
  back: string,
  record: Cmd,
): Cmd[] | undefined {
  const p = t.rollout.proxy;
  if (!p || t.rollout.strategy !== 'docker' || !current || current.state !== 'running' || current.ref !== back)
    return undefined;
  const name = containerName(t.app, t.environment, t.rollout.container);
  const sw = trafficSwitch(t.app, t.environment, p);
  return [
    checkCmd(sw),
    switchCmd(sw, current.container ?? name, p.containerPort),
    { step: 'drain', argv: ['sleep', seconds(p.drain)] },
    { step: 'remove', argv: dockerRemove(nextName(name)), mayFail: true },
    record,
  ];
}
