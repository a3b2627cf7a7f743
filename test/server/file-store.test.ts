/**
 * The two file stores on a real folder, no sockets: the backend's cached async store and the
 * thread-pool workers' blocking store must agree on what is found, missing or forbidden.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import path from 'node:path';
import { CachedFileStore } from '../../src/http/cached-file-store.js';
import type { FileLookup, FileStore } from '../../src/http/file-store.js';
import { SyncFileStore } from '../../src/threaded/sync-file-store.js';
import { makeServedFolder } from '../helpers/served-folder.js';

const SMALL_LIMIT = 256 * 1024;

const stores: Array<[string, (realRoot: string) => FileStore]> = [
  [
    'cached (backend)',
    (realRoot) => new CachedFileStore({ realRoot, maxCachedBytes: SMALL_LIMIT, validMs: 1000 }),
  ],
  ['blocking (threaded)', (realRoot) => new SyncFileStore({ realRoot, maxReadBytes: SMALL_LIMIT })],
];

for (const [label, make] of stores) {
  void test(`${label} store: small files come with their bytes, large ones with metadata only`, async (t) => {
    const folder = await makeServedFolder();
    t.after(() => folder.remove());
    const store = make(realpathSync(folder.root));
    const page = await store.lookup('page.html');
    assert.equal(page.kind, 'found');
    if (page.kind !== 'found') return;
    const onDisk = await fs.readFile(path.join(folder.root, 'page.html'));
    assert.deepEqual(Buffer.from(page.entry.body ?? []), onDisk);
    assert.equal(page.entry.meta.size, onDisk.length);
    assert.equal(page.entry.meta.contentType, 'text/html; charset=utf-8');

    const big = await store.lookup('files/1mb.bin');
    assert.equal(big.kind, 'found');
    if (big.kind !== 'found') return;
    assert.equal(big.entry.body, undefined, 'a 1 MiB file is streamed, not held');
    assert.equal(big.entry.meta.size, 1024 * 1024);
  });

  void test(`${label} store: missing files and folders are 404, symlinks out of the root are refused`, async (t) => {
    const folder = await makeServedFolder();
    t.after(() => folder.remove());
    const store = make(realpathSync(folder.root));
    const kind = async (rel: string): Promise<FileLookup['kind']> => (await store.lookup(rel)).kind;
    assert.equal(await kind('nope.html'), 'missing');
    assert.equal(await kind('page.html/child'), 'missing');
    assert.equal(await kind('images'), 'missing');
    assert.equal(await kind('escape.txt'), 'forbidden');
    assert.equal(await kind('escape-dir/secret.txt'), 'forbidden');
    assert.equal(await kind('alias.html'), 'found', 'a symlink that stays inside the root is fine');
  });
}

/** A served folder (removed after the test) and a cached store over it, on a clock the test moves. */
async function clockedStore(t: TestContext, validMs: number) {
  const folder = await makeServedFolder();
  t.after(() => folder.remove());
  const clock = { now: 0 };
  const store = new CachedFileStore({
    realRoot: realpathSync(folder.root),
    maxCachedBytes: SMALL_LIMIT,
    validMs,
    now: () => clock.now,
  });
  return { folder, store, clock };
}

void test('cached store: a hit answers without a promise and the file is re-checked after validMs', async (t) => {
  const { folder, store, clock } = await clockedStore(t, 1000);
  const file = path.join(folder.root, 'note.txt');
  await fs.writeFile(file, 'first version');
  const first = await store.lookup('note.txt');
  const hit = store.lookup('note.txt');
  assert.ok(!(hit instanceof Promise), 'a cache hit is synchronous');
  assert.equal(hit, first);

  await fs.writeFile(file, 'second, longer version');
  clock.now = 999;
  const stale = await store.lookup('note.txt');
  assert.equal(stale.kind === 'found' && Buffer.from(stale.entry.body ?? []).toString(), 'first version');
  clock.now = 1000;
  const fresh = await store.lookup('note.txt');
  assert.equal(
    fresh.kind === 'found' && Buffer.from(fresh.entry.body ?? []).toString(),
    'second, longer version',
  );

  await fs.rm(file);
  clock.now = 2500;
  assert.equal((await store.lookup('note.txt')).kind, 'missing');
  assert.equal(store.size, 0, 'a vanished file is forgotten');
});

void test('cached store: an unchanged file is re-checked with stat and keeps its entry', async (t) => {
  const { store, clock } = await clockedStore(t, 10);
  const first = await store.lookup('images/small.jpg');
  clock.now = 50;
  const again = await store.lookup('images/small.jpg');
  assert.equal(again, first, 'same object: not read again');
});

void test('cached store: a file turned into a symlink out of the root is refused after revalidation', async (t) => {
  const { folder, store, clock } = await clockedStore(t, 10);
  const file = path.join(folder.root, 'swap.txt');
  await fs.writeFile(file, 'harmless');
  assert.equal((await store.lookup('swap.txt')).kind, 'found');
  await fs.rm(file);
  await fs.symlink(path.join(folder.root, '..', 'secret.txt'), file);
  clock.now = 50;
  assert.equal((await store.lookup('swap.txt')).kind, 'forbidden');
});
