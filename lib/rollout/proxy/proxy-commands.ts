/**
 * The docker strategy behind a proxy (zero downtime): the new container starts on the free one of two
 * slot ports, is health-checked there directly, the proxy's upstream is switched to it, the old container
 * drains for `drain`, then is stopped and removed, and the new one takes the app's name. The slot is a
 * fjord label on the container, so the next deploy (or rollback, or heal) takes the other one.
 */
import type { RolloutConfig } from '../../config/schema.js';
import { containerName, dockerPull, dockerRemove, dockerRename, dockerRun, dockerStop, nextName } from '../docker-commands.js';
import type { Cmd, HostCommands } from '../host-commands.js';
import type { RunningImage } from '../types.js';
import { nginxSwitch } from './nginx.js';
import { upstreamName, type TrafficSwitch } from './traffic-switch.js';

type Proxy = NonNullable<RolloutConfig['proxy']>;

export const SLOT_LABEL = 'fjord.slot';

/** The slot port the running container holds (undefined: none, or not started behind the proxy). */
export function slotOf(running: RunningImage | undefined): number | undefined {
  const slot = Number(running?.labels[SLOT_LABEL]);
  return Number.isInteger(slot) && slot > 0 ? slot : undefined;
}

/** The slot the next container takes: the one the running container does not hold. */
export const nextSlot = (proxy: Proxy, running: RunningImage | undefined): number => (slotOf(running) === proxy.hostPorts[0] ? proxy.hostPorts[1] : proxy.hostPorts[0]);

/** The app's TrafficSwitch on its host's proxy. */
export function trafficSwitch(app: string, environment: string, proxy: Proxy): TrafficSwitch {
  return nginxSwitch({ upstreamFile: proxy.upstreamFile ?? `/etc/nginx/fjord/${app}-${environment}.conf`, upstream: upstreamName(app, environment), pidFile: proxy.pidFile });
}

export interface ProxyTarget {
  app: string;
  environment: string;
  jobId: string;
  ref: string;
  tag: string;
  rollout: RolloutConfig & { proxy: Proxy };
  pulled?: boolean;
}

/** Seconds for `sleep`, with milliseconds. */
const seconds = (ms: number) => (ms / 1000).toFixed(3);

export function proxyDockerCommands(t: ProxyTarget, current: RunningImage | undefined, record: Cmd): HostCommands {
  const p = t.rollout.proxy;
  const name = containerName(t.app, t.environment, t.rollout.container);
  const next = nextName(name);
  const slot = nextSlot(p, current);
  const publish = p.bind === 'engine' ? `${slot}:${p.containerPort}` : `${p.bind}:${slot}:${p.containerPort}`;
  // The slot port is the only port published: the proxy is the app's front door.
  const container = { ...t.rollout.container, ports: [publish] };
  const run = dockerRun({ app: t.app, environment: t.environment, jobId: t.jobId, ref: t.ref, tag: t.tag, container }, next, [`${SLOT_LABEL}=${slot}`]);
  const sw = trafficSwitch(t.app, t.environment, p);
  return {
    before: [
      ...(t.pulled ? [] : [{ step: 'pull' as const, argv: dockerPull(t.ref) }]),
      // Before anything is stopped or started: a proxy that is missing or down fails the host here.
      { step: 'proxy', argv: sw.check() },
      { step: 'start', argv: dockerRemove(next), mayFail: true }, // left over from an interrupted rollout
      { step: 'start', argv: run, undo: dockerRemove(next) },
    ],
    started: next,
    healthPort: slot,
    after: [
      { step: 'switch', argv: sw.switchToContainer(next, p.containerPort) },
      ...(current
        ? [
            { step: 'drain' as const, argv: ['sleep', seconds(p.drain)] },
            { step: 'stop' as const, argv: dockerStop(current.container ?? name, t.rollout.container.stopTimeout) },
            { step: 'switch' as const, argv: dockerRemove(current.container ?? name) },
          ]
        : []),
      { step: 'switch', argv: dockerRename(next, name) },
      record,
    ],
  };
}

/** `env` with its HTTP health check aimed at `port` (a container's slot behind the proxy); unchanged without one. */
export function withHealthPort<E extends { rollout: RolloutConfig }>(env: E, port: number | undefined): E {
  const hc = env.rollout.healthCheck;
  if (port === undefined || !hc || 'command' in hc) return env;
  return { ...env, rollout: { ...env.rollout, healthCheck: { ...hc, port } } };
}
