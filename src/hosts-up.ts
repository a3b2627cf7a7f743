/**
 * `npm run hosts:up`: build test hosts and leave them running: network namespaces on a private
 * bridge, a three-member etcd cluster over them, and on each host a PM2 daemon with backends and a
 * registrar. Prints how to point a balancer at them; `npm run hosts:down` removes everything.
 */
import { loadConfigOrExit } from './config/load.js';
import { intParser, type OptionSpec } from './config/options.js';
import { errorMessage } from './errors.js';
import { keepalivedBin, Lab } from './hosts/lab.js';
import { readAllLabNotes, writeLabNotes } from './hosts/lab-notes.js';
import { labTags } from './hosts/network.js';
import { hostsSupportProblems } from './hosts/support.js';

const options = loadConfigOrExit('npm run hosts:up -- [options]', {
  hosts: {
    flag: 'hosts',
    description: 'How many hosts (the first three run etcd)',
    default: 3,
    parse: intParser(3, 9),
  },
  backends: { flag: 'backends', description: 'Backends per host', default: 2, parse: intParser(1, 8) },
  fronts: {
    flag: 'fronts',
    description:
      'Front hosts running a balancer and keepalived for one virtual address (0 or 2), and a client host',
    default: 0,
    parse: intParser(0, 2),
  },
} satisfies Record<string, OptionSpec<number>>);

const say = (line: string) => process.stdout.write(`${line}\n`);
const problems = await hostsSupportProblems({
  etcd: true,
  ...(options.fronts > 0 ? { fronts: { keepalived: keepalivedBin() } } : {}),
});
if (problems.length > 0) {
  process.stderr.write(
    `hosts:up cannot build test hosts here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}
// One lab per checkout (hosts:down removes what this checkout noted); other checkouts' and tests'
// labs may run beside it, each on its own bridge and subnet.
const onMachine = await labTags();
const ours = (await readAllLabNotes()).map((n) => n.tag).filter((tag) => onMachine.includes(tag));
if (ours.length > 0) {
  process.stderr.write(
    `hosts:up: test hosts are already up (${ours.join(', ')}); run npm run hosts:down first\n`,
  );
  process.exit(1);
}

try {
  const lab = await Lab.create({
    hosts: options.hosts,
    backendsPerHost: options.backends,
    fronts: options.fronts,
    client: options.fronts > 0,
    leaseTtlS: 5,
    detached: true,
    log: say,
  });
  const file = await writeLabNotes({
    tag: lab.tag,
    dir: lab.dir,
    prefix: lab.prefix,
    pool: lab.pool,
    etcdEndpoints: lab.etcd.endpoints,
    hosts: [
      ...lab.hosts.map((h) => ({
        name: h.link.name,
        netns: h.link.netns,
        address: h.link.address,
        link: h.link.link,
        pm2Home: h.fleet.home,
        backends: h.backends.map((b) => b.name),
      })),
      ...lab.fronts.map((f) => ({
        name: f.name,
        netns: f.link.netns,
        address: f.link.address,
        link: f.link.link,
        pm2Home: f.fleet.home,
        backends: ['balancer', 'keepalived'],
      })),
    ],
  });
  say('');
  say(
    `Up: ${lab.hosts.length} hosts (${lab.hosts.map((h) => `${h.link.name} ${h.link.address}`).join(', ')}).`,
  );
  say(`Notes: ${file}`);
  say('A balancer on them:');
  say(
    `  node dist/src/balancer.js --discovery etcd --etcd-endpoints ${lab.etcd.endpoints.join(',')} ` +
      `--etcd-prefix ${lab.prefix} --etcd-keepalive 1s --port 0 --admin-port 0`,
  );
  say(`A host's PM2: PM2_HOME=${lab.hosts[0]?.fleet.home ?? ''} npx pm2 ls`);
  say(`A host's cable: ip link set ${lab.hosts[0]?.link.link ?? ''} down`);
  if (lab.fronts.length > 0 && lab.client !== null) {
    say(`Fronts: ${lab.fronts.map((f) => `${f.name} ${f.link.address}`).join(', ')} share ${lab.frontUrl}`);
    say(`  from the client host: ip netns exec ${lab.client.netns} curl -si ${lab.frontUrl}/page.html`);
    say(`  a front's balancer: PM2_HOME=${lab.fronts[0]?.fleet.home ?? ''} npx pm2 logs balancer`);
  }
  say('Remove it all: npm run hosts:down');
  process.exit(0);
} catch (err) {
  process.stderr.write(`hosts:up failed (everything it built was removed): ${errorMessage(err)}\n`);
  process.exit(1);
}
