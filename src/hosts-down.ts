/**
 * `npm run hosts:down`: remove the test hosts this checkout's `hosts:up` built: `pm2 kill` for
 * each host's daemon, then every process left in the namespaces, the namespaces, the bridge and
 * the folders. Which labs are this checkout's is what its logs folder notes (hosts-<tag>.json);
 * other labs on the machine (another checkout's, a running test's) are named and left alone,
 * since removing them would break whoever uses them. `--tag` removes a lab by its tag, notes or not
 * (one left by a hosts:up that was killed before it wrote its notes).
 */
import fs from 'node:fs/promises';
import { loadConfigOrExit } from './config/load.js';
import type { OptionSpec } from './config/options.js';
import { errorMessage } from './errors.js';
import { killPm2Home } from './hosts/host-fleet.js';
import { readAllLabNotes, removeLabNotes } from './hosts/lab-notes.js';
import { labTags, removeLab } from './hosts/network.js';
import { hostsSupportProblems } from './hosts/support.js';

const options = loadConfigOrExit('npm run hosts:down -- [options]', {
  tags: {
    flag: 'tag',
    description:
      "Remove this lab (its 4-character tag, from `ip netns`: sbl-<tag>-h1), this checkout's or not",
    default: [],
    defaultText: "the labs this checkout's hosts:up noted",
    repeatable: true,
    // The kit types a repeatable option's parse as its whole value: each occurrence is a list of one.
    parse: (raw: string): string[] => {
      if (!/^[a-z0-9]{4}$/.test(raw)) throw new Error(`"${raw}" is not a lab tag (4 letters or digits)`);
      return [raw];
    },
  } satisfies OptionSpec<string[]>,
});

const say = (line: string) => process.stdout.write(`${line}\n`);
const problems = await hostsSupportProblems({ etcd: false });
if (problems.length > 0) {
  process.stderr.write(
    `hosts:down cannot remove test hosts here:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`,
  );
  process.exit(1);
}

try {
  const notes = await readAllLabNotes();
  const onMachine = await labTags();
  const asked = options.tags.flat();
  const tags = new Set(asked.length > 0 ? asked : notes.map((n) => n.tag));
  if (tags.size === 0) say("hosts:down: this checkout's test hosts are not up; nothing to do");
  for (const tag of tags) {
    const note = notes.find((n) => n.tag === tag);
    for (const host of note?.hosts ?? []) await killPm2Home(host.pm2Home);
    const removed = await removeLab(tag, 3000);
    if (note !== undefined) await fs.rm(note.dir, { recursive: true, force: true });
    await removeLabNotes(tag);
    say(`hosts:down: lab ${tag} removed (${removed.length > 0 ? removed.join(', ') : 'nothing was left'})`);
  }
  const others = onMachine.filter((tag) => !tags.has(tag));
  if (others.length > 0) {
    say(
      `hosts:down: left alone, not this checkout's: lab ${others.join(', ')} ` +
        `(to remove one anyway: npm run hosts:down -- --tag ${others[0] ?? ''})`,
    );
  }
  process.exit(0);
} catch (err) {
  process.stderr.write(`hosts:down failed: ${errorMessage(err)}\n`);
  process.exit(1);
}
