/**
 * The Ansible peer of the rollout benchmark (bench/peers-ansible.ts), as text: an inventory of the bench
 * fleet's hosts, an ansible.cfg tuned the way its docs advise for speed (SSH pipelining, ControlMaster with
 * ControlPersist, no fact gathering), and a playbook doing fjord's docker steps: `docker pull` on every host
 * first (at most `pullParallel` forks, as fjord's pre-pull), then `serial: <batchSize>` batches of remove
 * stale `-next` → stop old → run new → health polled at fjord's interval → running check → remove old →
 * rename. The commands are fjord's own (`deployCommands`, the floor's health loop), one `command:` task
 * each, as a hand-written play would have them, so the two cannot drift apart.
 * https://docs.ansible.com/ansible/latest/collections/ansible/builtin/ssh_connection.html
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stringify } from 'yaml';
import { deployCommands, prePullCommand } from '../lib/rollout/host-commands.js';
import type { Cmd } from '../lib/rollout/host-command-types.js';
import type { FleetHost } from '../test/fixtures/fleet.js';
import { floorTarget, healthLoop, runningCheck, type FloorCase } from './rollout-floor.js';

export type PlayCase = Pick<FloorCase, 'image' | 'environment' | 'rollout'>;

/** YAML inventory: each host at its loopback address and sshd port, logging in as the fleet's user. */
export function ansibleInventory(hosts: FleetHost[], privateKeyFile: string): string {
  const entries = hosts.map((h) => [h.name, { ansible_host: h.address, ansible_port: h.port, ansible_user: h.user }]);
  return stringify({
    all: {
      hosts: Object.fromEntries(entries),
      vars: { ansible_ssh_private_key_file: privateKeyFile, ansible_python_interpreter: '/usr/bin/python3' },
    },
  });
}

/** known_hosts lines pinning each host's key (the fleet writes `host_ed25519.pub` beside the host's HOME). */
export function knownHosts(hosts: FleetHost[]): string {
  return hosts
    .map(
      (h) =>
        `[${h.address}]:${h.port} ${readFileSync(join(dirname(h.home), 'host_ed25519.pub'), 'utf8')
          .split(' ')
          .slice(0, 2)
          .join(' ')}\n`,
    )
    .join('');
}

/** ansible.cfg: pipelining, ControlPersist in `controlDir`, strict host keys from `knownHostsFile`. */
export function ansibleConfig({
  forks,
  controlDir,
  knownHostsFile,
}: {
  forks: number;
  controlDir: string;
  knownHostsFile: string;
}): string {
  return [
    '[defaults]',
    `forks = ${forks}`,
    'gathering = explicit',
    'host_key_checking = True',
    'retry_files_enabled = False',
    'interpreter_python = /usr/bin/python3',
    '[ssh_connection]',
    'pipelining = True',
    `ssh_args = -o ControlMaster=auto -o ControlPersist=60s -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHostsFile}`,
    `control_path_dir = ${controlDir}`,
    'control_path = %(directory)s/%%C',
    '',
  ].join('\n');
}

/** Ansible templates every string with Jinja: docker's `{{.State.Status}}` must reach the host as written. */
const raw = (s: string) => (/[{}%]/.test(s) ? `{% raw %}${s}{% endraw %}` : s);

const task = (c: Cmd) => ({
  name: `${c.step}: ${c.argv.slice(0, 3).join(' ')}`,
  'ansible.builtin.command': { argv: c.argv.map(raw) },
  ...(c.mayFail ? { failed_when: false } : {}),
});

/** The playbook deploying `image:tag`; `replaces`: an old container runs on every host (after a warm-up). */
export function ansiblePlaybook(c: PlayCase, tag: string, replaces: boolean): string {
  const target = floorTarget(c, tag);
  const { before, after } = deployCommands(
    target,
    replaces ? { ref: `${c.image}:old`, state: 'running', labels: {} } : undefined,
  );
  const pull = prePullCommand(target)!;
  return stringify([
    { name: 'pull everywhere first', hosts: 'all', gather_facts: false, tasks: [task(pull)] },
    {
      name: 'replace, batch by batch',
      hosts: 'all',
      serial: c.rollout.batchSize,
      gather_facts: false,
      any_errors_fatal: true,
      tasks: [
        ...before.map(task),
        { name: 'health', 'ansible.builtin.shell': raw(healthLoop(c.rollout)) },
        { name: 'running', 'ansible.builtin.shell': raw(runningCheck(c)) },
        // The state record is fjord's own (what `fjord status` reads), not part of the job.
        ...after.filter((x) => x.step !== 'record').map(task),
      ],
    },
  ]);
}
