/**
 * What `npm run hosts:up` leaves behind for `hosts:down` and for a person: the lab's tag, folder,
 * hosts, etcd endpoints and PM2 homes, as one JSON file per lab in the logs folder.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { LOGS_DIR } from '../config/common.js';

export interface LabNotes {
  tag: string;
  dir: string;
  prefix: string;
  pool: string;
  etcdEndpoints: string[];
  hosts: {
    name: string;
    netns: string;
    address: string;
    link: string;
    pm2Home: string;
    backends: string[];
  }[];
}

const notesFile = (tag: string) => path.join(LOGS_DIR, `hosts-${tag}.json`);

export async function writeLabNotes(notes: LabNotes): Promise<string> {
  await fs.mkdir(LOGS_DIR, { recursive: true });
  const file = notesFile(notes.tag);
  await fs.writeFile(file, `${JSON.stringify(notes, null, 2)}\n`);
  return file;
}

export async function readAllLabNotes(): Promise<LabNotes[]> {
  const names = await fs.readdir(LOGS_DIR).catch(() => [] as string[]);
  const notes: LabNotes[] = [];
  for (const name of names.filter((n) => /^hosts-[a-z0-9]{4}\.json$/.test(n))) {
    try {
      notes.push(JSON.parse(await fs.readFile(path.join(LOGS_DIR, name), 'utf8')) as LabNotes);
    } catch {
      // a half-written file: its namespaces are still found by name
    }
  }
  return notes;
}

export async function removeLabNotes(tag: string): Promise<void> {
  await fs.rm(notesFile(tag), { force: true });
}
