/**
 * `npm run hosts:down`: remove every test host this project built: `pm2 kill` for each host's
 * daemon, then every process left in the namespaces, the namespaces, the bridge and the folders.
 * Found by the names they were given (the `sbl-` prefix), so nothing else is touched.
 */
import fs from 'node:fs/promises';
import { errorMessage } from './errors.js';
import { killPm2Home } from './hosts/host-fleet.js';
import { readAllLabNotes, removeLabNotes } from './hosts/lab-notes.js';
import { labTags, removeLab } from './hosts/network.js';
import { hostsSupportProblems } from './hosts/support.js';

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
  const tags = new Set([...notes.map((n) => n.tag), ...(await labTags())]);
  if (tags.size === 0) say('hosts:down: no test hosts are up; nothing to do');
  for (const tag of tags) {
    const note = notes.find((n) => n.tag === tag);
    for (const host of note?.hosts ?? []) await killPm2Home(host.pm2Home);
    const removed = await removeLab(tag, 3000);
    if (note !== undefined) await fs.rm(note.dir, { recursive: true, force: true });
    await removeLabNotes(tag);
    say(`hosts:down: lab ${tag} removed (${removed.length > 0 ? removed.join(', ') : 'nothing was left'})`);
  }
  process.exit(0);
} catch (err) {
  process.stderr.write(`hosts:down failed: ${errorMessage(err)}\n`);
  process.exit(1);
}
