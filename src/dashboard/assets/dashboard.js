// @ts-check
/**
 * The dashboard page's only script: it listens to the balancer's server-sent events (one JSON view a
 * second, and at once on a pool or admin change) and redraws the page in place. Besides the GET
 * that opens the stream it sends one thing: when a person clicks an upstream's drain, maint, ready
 * or set weight, a POST to the balancer's own /__lb/upstreams/<name>/... route on this origin,
 * as JSON, which is what the balancer's guard lets through. The next frame shows the result; a
 * refusal shows on the row. Text goes in through textContent, never as HTML.
 *
 * Plain JavaScript served as it is (no build step for the page), type-checked against the view the
 * balancer sends (../view.ts) by `npm run typecheck` (tsconfig.browser.json, with the DOM types).
 */

/** @typedef {import('../view.js').DashboardView} DashboardView */
/** @typedef {import('../view.js').UpstreamView} UpstreamView */
/** @typedef {import('../view.js').TotalsView} TotalsView */
/** @typedef {import('../view.js').HealthView} HealthView */
/** @typedef {import('../view.js').WorkerView} WorkerView */
/** @typedef {import('../view.js').FrontView} FrontView */
/** @typedef {DashboardView['workerChanges'][number]} WorkerChangeView */
/** @typedef {DashboardView['poolChanges'][number]} PoolChangeView */
/** @typedef {DashboardView['adminChanges'][number]} AdminChangeView */
/** @typedef {UpstreamView['admin']} AdminState */
/** @typedef {TotalsView['series'][number]} SecondView */
/** @typedef {'ok' | 'bad' | 'warn' | 'none'} Tone */
/** @typedef {HTMLTableCellElement} Td */
/** A row's sixteen cells, in the order of the table's columns (index.html). */
/** @typedef {[Td, Td, Td, Td, Td, Td, Td, Td, Td, Td, Td, Td, Td, Td, Td, Td]} RowCells */
/**
 * A row's controls, made once with the row so that a frame never replaces a button being clicked
 * or a weight being typed.
 * @typedef {{buttons: Map<AdminState, HTMLButtonElement>, weight: HTMLInputElement, message: HTMLElement}} Controls
 */
/** A worker row's ten cells, in the order of the workers table's columns. */
/** @typedef {[Td, Td, Td, Td, Td, Td, Td, Td, Td, Td]} WorkerCells */

const STREAM_URL = '/api/dashboard/events';
/** The balancer's control routes (src/balancer/upstream-control.ts): <name>/drain, .../weight/<n>. */
const CONTROL_URL = '/__lb/upstreams/';
/** @type {[AdminState, string][]} */
const ACTIONS = [
  ['drain', 'No new requests or tunnels; those in flight finish'],
  ['maint', 'Out at once, health checks stop; kept across PM2 restarts of its process'],
  ['ready', 'Back, in rotation as soon as its health allows'],
];
/** A refusal stays on its row this long, unless another click clears it first. */
const MESSAGE_MS = 15_000;
/** No frame for this long: say so on the page (frames come every second). */
const STALE_AFTER_MS = 3500;
const CHART_W = 600;
const CHART_H = 150;
/** Pool and admin changes listed; the JSON view has more. */
const CHANGES_SHOWN = 10;
/** Worker changes listed (a reload is three or four lines). */
const WORKER_CHANGES_SHOWN = 8;

/**
 * The element with this id; index.html has every id this script asks for.
 * @param {string} id
 * @returns {HTMLElement}
 */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

let lastFrameAt = 0;
/** @type {Map<string, {tr: HTMLTableRowElement, cells: RowCells, controls: Controls}>} */
const rows = new Map();
/** @type {Map<number, {tr: HTMLTableRowElement, cells: WorkerCells}>} */
const workerRows = new Map();

// ---- formatting ----

/** @param {number} n */
function formatCount(n) {
  return Math.round(n).toLocaleString('en-US');
}

/** @param {number | null | undefined} ms */
function formatMs(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(2)} ms`;
}

/** @param {number | null | undefined} ms */
function formatDuration(ms) {
  if (ms === null || ms === undefined || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** @param {number | null | undefined} bytes */
function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return '–';
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v >= 100 || u === 0 ? 0 : 1)} ${units[u]}`;
}

/** @param {number} ratio */
function formatPercent(ratio) {
  const p = ratio * 100;
  if (p === 0) return '0 %';
  if (p < 0.1) return '<0.1 %';
  return `${p.toFixed(p >= 10 ? 0 : 1)} %`;
}

/** @param {number} epochMs */
function formatClock(epochMs) {
  return new Date(epochMs).toLocaleTimeString('en-GB', { hour12: false });
}

/**
 * The smallest of 1, 2, 5 x 10^k at or above v.
 * @param {number} v
 * @param {number} floor
 */
function niceMax(v, floor) {
  const x = Math.max(v, floor);
  const p = 10 ** Math.floor(Math.log10(x));
  for (const m of [1, 2, 5, 10]) if (m * p >= x) return m * p;
  return 10 * p;
}

// ---- drawing ----

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/**
 * Replace a node's children only when the text changed, so nothing flickers.
 * @param {HTMLElement} node
 * @param {string} text
 */
function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/**
 * @param {string} text
 * @param {Tone} tone
 */
function badge(text, tone) {
  const b = el('span', 'badge', text);
  b.dataset.tone = tone;
  return b;
}

/**
 * @param {HTMLElement} cell
 * @param {...(string | HTMLElement)} nodes
 */
function setCell(cell, ...nodes) {
  const key = nodes
    .map((n) => (typeof n === 'string' ? n : `${n.dataset?.tone ?? ''}${n.textContent}`))
    .join('|');
  if (cell.dataset.key === key) return;
  cell.dataset.key = key;
  cell.replaceChildren(...nodes);
}

/**
 * @param {HealthView | string} health  an upstream's health, or a pool change's `from` and `to`
 * @returns {Tone}
 */
function healthTone(health) {
  if (health === 'healthy') return 'ok';
  if (health === 'unhealthy') return 'bad';
  return 'warn';
}

/**
 * @param {AdminState} admin
 * @returns {Tone}
 */
function adminTone(admin) {
  if (admin === 'ready') return 'ok';
  if (admin === 'maint') return 'bad';
  return 'warn';
}

/**
 * @param {string} status
 * @returns {Tone}
 */
function pm2Tone(status) {
  if (status === 'online') return 'ok';
  if (status === 'stopped' || status === 'errored') return 'bad';
  return 'warn';
}

// ---- controls ----

/**
 * Show a refusal on a row ('' hides it); it goes by itself after a while.
 * @param {HTMLElement} message
 * @param {string} text
 */
function showMessage(message, text) {
  message.textContent = text;
  message.hidden = text === '';
  if (text !== '') {
    window.setTimeout(() => {
      if (message.textContent === text) showMessage(message, '');
    }, MESSAGE_MS);
  }
}

/**
 * The balancer's reason for a refusal: its JSON `error`, else the first line of what came.
 * @param {Response} res
 */
async function reasonOf(res) {
  const text = await res.text();
  try {
    const body = /** @type {unknown} */ (JSON.parse(text));
    if (typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string') {
      return body.error;
    }
  } catch {
    // Not the balancer's JSON: its words are all there is.
  }
  return text.split('\n')[0]?.trim() || res.statusText;
}

/**
 * POST one control route for the row's upstream; true when the balancer took it. The weight is
 * sent as typed: the balancer's rule (0 to 256) answers a bad one, and its words show on the row.
 * @param {HTMLTableRowElement} tr
 * @param {string} action  drain, maint, ready or weight/<n>
 * @param {HTMLElement} message
 */
async function send(tr, action, message) {
  showMessage(message, '');
  tr.dataset.busy = 'true';
  try {
    const res = await fetch(`${CONTROL_URL}${encodeURIComponent(tr.dataset.upstream ?? '')}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    if (res.ok) return true;
    showMessage(message, `${res.status}: ${await reasonOf(res)}`);
  } catch (err) {
    showMessage(message, `not sent: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    delete tr.dataset.busy;
  }
  return false;
}

/**
 * The buttons and the weight input of one row, in its last cell.
 * @param {HTMLTableRowElement} tr
 * @param {Td} cell
 * @returns {Controls}
 */
function buildControls(tr, cell) {
  const box = el('div', 'controls');
  const message = el('span', 'control-msg');
  message.hidden = true;
  message.setAttribute('role', 'status');
  /** @type {Map<AdminState, HTMLButtonElement>} */
  const buttons = new Map();
  for (const [action, title] of ACTIONS) {
    const button = el('button', 'control', action);
    button.type = 'button';
    button.dataset.action = action;
    button.title = title;
    button.addEventListener('click', () => void send(tr, action, message));
    buttons.set(action, button);
    box.append(button);
  }
  const weight = el('input', 'weight-input');
  weight.type = 'number';
  weight.min = '0';
  weight.max = '256';
  weight.step = '1';
  weight.setAttribute('aria-label', 'new weight');
  const set = el('button', 'control', 'set');
  set.type = 'button';
  set.dataset.action = 'weight';
  set.title = 'Set the weight typed beside: its share of new requests, 0 to 256';
  const setWeight = () =>
    void send(tr, `weight/${encodeURIComponent(weight.value.trim())}`, message).then((taken) => {
      if (taken) weight.value = '';
    });
  set.addEventListener('click', setWeight);
  weight.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') setWeight();
  });
  box.append(weight, set);
  cell.append(box, message);
  return { buttons, weight, message };
}

/** @param {UpstreamView} upstream */
function rowFor(upstream) {
  let row = rows.get(upstream.id);
  if (row === undefined) {
    const tr = document.createElement('tr');
    /** @type {Td[]} */
    const cells = [];
    for (let i = 0; i < 16; i++) {
      const td = document.createElement('td');
      if (i === 2 || (i >= 4 && i !== 13 && i !== 15)) td.className = 'num';
      cells.push(td);
      tr.append(td);
    }
    const typed = /** @type {RowCells} */ (cells);
    row = { tr, cells: typed, controls: buildControls(tr, typed[15]) };
    rows.set(upstream.id, row);
  }
  return row;
}

/**
 * @param {UpstreamView[]} upstreams
 * @param {number} now
 */
function renderUpstreams(upstreams, now) {
  const tbody = /** @type {HTMLTableElement} */ ($('upstreams')).tBodies[0];
  if (tbody === undefined) return;
  /** @type {Set<string>} */
  const seen = new Set();
  upstreams.forEach((u, index) => {
    seen.add(u.id);
    const { tr, cells, controls } = rowFor(u);
    tr.dataset.upstream = u.name;
    tr.dataset.id = u.id;
    tr.dataset.health = u.health;
    tr.dataset.admin = u.admin;
    tr.dataset.weight = String(u.weight);
    if (tbody.rows[index] !== tr) tbody.insertBefore(tr, tbody.rows[index] ?? null);

    const [
      name,
      health,
      check,
      pm2,
      pid,
      restarts,
      uptime,
      memory,
      cpu,
      inFlight,
      tunnels,
      served,
      failures,
      admin,
      weight,
    ] = cells;
    const from = u.origin && u.origin.host ? ` · ${u.origin.host} via ${u.origin.source}` : '';
    setCell(name, el('span', 'name', u.name), el('span', 'addr', `${u.address}${from}`));
    setCell(
      health,
      badge(u.health, healthTone(u.health)),
      el('span', 'since', `for ${formatDuration(now - u.since)}`),
    );
    health.title = u.reason;

    if (u.check === null) setCell(check, el('span', 'zero', '–'));
    else if (u.check.ok) setCell(check, formatMs(u.check.latencyMs));
    else {
      const failed = el('span', 'check-fail', 'failed');
      failed.title = u.check.error ?? '';
      setCell(check, failed);
    }

    const p = u.pm2;
    setCell(pm2, p ? badge(p.status, pm2Tone(p.status)) : badge('not PM2', 'none'));
    setText(pid, p?.pid ? String(p.pid) : '–');
    setText(restarts, p ? formatCount(p.restarts) : '–');
    // A member on another host: etcd carries its PM2 status, pid and restarts, not its live usage.
    const local = !(u.origin && u.origin.source === 'etcd');
    setText(uptime, p && local ? formatDuration(p.uptimeMs) : '–');
    setText(memory, p && p.pid && local ? formatBytes(p.memoryBytes) : '–');
    setText(cpu, p && p.pid && local ? `${Math.round(p.cpuPercent)} %` : '–');
    setText(inFlight, formatCount(u.inFlight));
    setText(tunnels, formatCount(u.tunnels.open));
    tunnels.title = `${formatBytes(u.tunnels.bytesToUpstream)} up, ${formatBytes(u.tunnels.bytesFromUpstream)} down`;
    setText(served, formatCount(u.served));
    setText(failures, formatCount(u.failures));
    failures.classList.toggle('check-fail', u.failures > 0);
    setCell(admin, badge(u.admin, adminTone(u.admin)));
    admin.title = u.available ? 'taking new requests' : 'not taking new requests';
    setText(weight, String(u.weight));
    // The state it is in cannot be asked for again; the weight it has is what the input shows.
    for (const [action, button] of controls.buttons) button.disabled = action === u.admin;
    controls.weight.placeholder = String(u.weight);
  });
  for (const [id, row] of rows) {
    if (!seen.has(id)) {
      row.tr.remove();
      rows.delete(id);
    }
  }
  $('no-upstreams').hidden = upstreams.length > 0;

  // In rotation: taking new requests, whether it is out for its health or by an operator's word.
  const taking = upstreams.filter((u) => u.available).length;
  setText($('stat-pool'), `${taking} / ${upstreams.length}`);
  $('stat-pool').dataset.degraded = String(taking < upstreams.length);
}

/**
 * @param {WorkerView['state']} state
 * @returns {Tone}
 */
function workerTone(state) {
  return state === 'ready' ? 'ok' : 'warn';
}

/** @param {WorkerView} worker */
function workerRowFor(worker) {
  let row = workerRows.get(worker.id);
  if (row === undefined) {
    const tr = document.createElement('tr');
    /** @type {Td[]} */
    const cells = [];
    for (let i = 0; i < 10; i++) {
      const td = document.createElement('td');
      if (i !== 0 && i !== 3) td.className = 'num';
      cells.push(td);
      tr.append(td);
    }
    row = { tr, cells: /** @type {WorkerCells} */ (cells) };
    workerRows.set(worker.id, row);
  }
  return row;
}

/**
 * @param {DashboardView} view
 */
function renderWorkers(view) {
  const { workers, balancer } = view;
  const tbody = /** @type {HTMLTableElement} */ ($('workers')).tBodies[0];
  if (tbody === undefined) return;
  /** @type {Set<number>} */
  const seen = new Set();
  workers.forEach((w, index) => {
    seen.add(w.id);
    const { tr, cells } = workerRowFor(w);
    tr.dataset.worker = String(w.id);
    tr.dataset.pid = String(w.pid);
    tr.dataset.generation = String(w.generation);
    tr.dataset.state = w.state;
    if (tbody.rows[index] !== tr) tbody.insertBefore(tr, tbody.rows[index] ?? null);
    const [id, pid, generation, state, up, inFlight, served, failures, memory, cpu] = cells;
    setText(id, `#${w.id}`);
    setText(pid, String(w.pid));
    setText(generation, String(w.generation));
    setCell(state, badge(w.state, workerTone(w.state)));
    setText(up, formatDuration(view.at - w.startedAt));
    setText(inFlight, formatCount(w.inFlight));
    setText(served, formatCount(w.served));
    setText(failures, formatCount(w.failures));
    failures.classList.toggle('check-fail', w.failures > 0);
    // PM2 sees the primary alone: a worker's memory and CPU are shown here (and on /metrics).
    setText(memory, formatBytes(w.rssBytes));
    setText(cpu, w.cpuPercent === null ? '–' : formatPercent(w.cpuPercent / 100));
  });
  for (const [id, row] of workerRows) {
    if (!seen.has(id)) {
      row.tr.remove();
      workerRows.delete(id);
    }
  }
  $('no-workers').hidden = workers.length > 0;

  const serving = workers.filter((w) => w.state !== 'draining');
  const draining = workers.length - serving.length;
  const newest = workers.reduce((g, w) => Math.max(g, w.generation), 0);
  setText($('stat-workers'), formatCount(serving.length));
  setText(
    $('stat-workers-hint'),
    draining > 0 ? `${formatCount(draining)} draining` : `of ${formatCount(balancer.workers)} configured`,
  );
  $('stat-workers').dataset.degraded = String(serving.length < balancer.workers);
  setText($('stat-reloads'), formatCount(balancer.reloads));
  setText($('stat-reloads-hint'), `generation ${newest} serving`);
  $('stat-reloads').dataset.reloading = String(draining > 0 || workers.some((w) => w.state === 'starting'));
  setText(
    $('workers-info'),
    balancer.workers === 1
      ? balancer.singleProcessReason
        ? `one process, not the workers asked for: ${balancer.singleProcessReason}`
        : 'one process: the balancer serves requests itself'
      : `${formatCount(balancer.workers)} configured · generation ${newest} · ${formatCount(balancer.reloads)} ${balancer.reloads === 1 ? 'reload' : 'reloads'}`,
  );
}

/** @param {WorkerChangeView[]} all */
function renderWorkerChanges(all) {
  const list = $('worker-changes');
  const changes = all.slice(0, WORKER_CHANGES_SHOWN);
  const key = changes.map((c) => `${c.at}${c.kind}${c.text}`).join('|');
  if (list.dataset.key !== key) {
    list.dataset.key = key;
    list.replaceChildren(
      ...changes.map((c) => {
        const li = el('li');
        li.dataset.kind = c.kind;
        li.dataset.generation = String(c.generation);
        const time = el('time', '', formatClock(c.at));
        time.dateTime = new Date(c.at).toISOString();
        li.append(time, el('span', 'text', c.text));
        li.title = c.text;
        return li;
      }),
    );
  }
  $('no-worker-changes').hidden = changes.length > 0;
}

/** @param {TotalsView} totals */
function renderTotals(totals) {
  setText($('stat-rps'), formatCount(totals.requestsPerSecond));
  setText($('stat-requests'), `last minute: ${formatCount(totals.requests)} requests`);
  setText($('stat-errors'), formatPercent(totals.errorRate));
  setText($('stat-error-count'), `${formatCount(totals.errors)} 5xx answers, last minute`);
  setText($('stat-p50'), formatMs(totals.p50Ms));
  setText($('stat-p99'), formatMs(totals.p99Ms));
  drawChart(totals.series);
}

/**
 * Complete seconds only: the second in progress would always look like a dip.
 * @param {SecondView[]} series
 */
function drawChart(series) {
  const points = series.slice(0, -1);
  const n = points.length;
  if (n < 2) return;
  const x = (/** @type {number} */ i) => (i * CHART_W) / (n - 1);
  const rpsMax = niceMax(Math.max(...points.map((p) => p.requests)), 5);
  const latMax = niceMax(Math.max(...points.map((p) => p.p99Ms ?? 0)), 1);
  const yRps = (/** @type {number} */ v) => CHART_H - (v / rpsMax) * (CHART_H - 4);
  const yLat = (/** @type {number} */ v) => CHART_H - (v / latMax) * (CHART_H - 4);

  const line = points.map(
    (p, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)} ${yRps(p.requests).toFixed(1)}`,
  );
  $('chart-rps-line').setAttribute('d', line.join(''));
  $('chart-rps-area').setAttribute('d', `${line.join('')}L${CHART_W} ${CHART_H}L0 ${CHART_H}Z`);

  const barW = Math.max(2, CHART_W / n / 2);
  let bars = '';
  points.forEach((p, i) => {
    if (p.errors > 0) {
      const h = CHART_H - yRps(p.errors);
      bars += `M${(x(i) - barW / 2).toFixed(1)} ${CHART_H}h${barW.toFixed(1)}v${(-h).toFixed(1)}h${(-barW).toFixed(1)}Z`;
    }
  });
  $('chart-errors').setAttribute('d', bars);

  let p99 = '';
  let pen = 'M';
  points.forEach((p, i) => {
    if (p.p99Ms === null) {
      pen = 'M';
      return;
    }
    p99 += `${pen}${x(i).toFixed(1)} ${yLat(p.p99Ms).toFixed(1)}`;
    pen = 'L';
  });
  $('chart-p99').setAttribute('d', p99);
  setText($('axis-rps'), `${formatCount(rpsMax)}/s`);
  setText($('axis-p99'), formatMs(latMax));
}

/**
 * One line of the changes list: when, which upstream, what happened, and why or who.
 * @param {{at: number, name: string}} c
 * @param {'health' | 'admin'} kind
 * @param {HTMLElement[]} what
 * @param {string} reason
 * @returns {HTMLLIElement}
 */
function changeItem(c, kind, what, reason) {
  const li = el('li');
  li.dataset.kind = kind;
  li.dataset.upstream = c.name;
  const time = el('time', '', formatClock(c.at));
  time.dateTime = new Date(c.at).toISOString();
  const move = el('span');
  move.append(...what);
  li.append(time, el('span', 'name', c.name), move, el('span', 'reason', reason));
  li.title = reason;
  return li;
}

/** @param {PoolChangeView} c */
function poolChangeItem(c) {
  const arrow = el('span', 'arrow', '→');
  const li = changeItem(
    c,
    'health',
    [badge(c.from, healthTone(c.from)), arrow, badge(c.to, healthTone(c.to))],
    c.reason,
  );
  li.dataset.to = c.to;
  return li;
}

/** @param {AdminChangeView} c */
function adminChangeItem(c) {
  const what = [badge(c.admin, adminTone(c.admin)), el('span', 'change', c.change)];
  const li = changeItem(c, 'admin', what, `by ${c.by}`);
  li.dataset.admin = c.admin;
  return li;
}

/**
 * Pool changes and operators' decisions in one list, newest first.
 * @param {PoolChangeView[]} pool
 * @param {AdminChangeView[]} admin
 */
function renderChanges(pool, admin) {
  const list = $('pool-changes');
  const entries = [
    ...pool.map((c) => ({ at: c.at, key: `h${c.at}${c.id}${c.to}`, item: () => poolChangeItem(c) })),
    ...admin.map((c) => ({ at: c.at, key: `a${c.at}${c.id}${c.change}`, item: () => adminChangeItem(c) })),
  ]
    .sort((a, b) => b.at - a.at)
    .slice(0, CHANGES_SHOWN);
  const key = entries.map((e) => e.key).join('|');
  if (list.dataset.key !== key) {
    list.dataset.key = key;
    list.replaceChildren(...entries.map((e) => e.item()));
  }
  $('no-changes').hidden = entries.length > 0;
}

/** etcd: connected at which revision, or unreachable with its error (the pool is then the last known). */
/** @param {DashboardView['balancer']['source']} source */
function describeSource(source) {
  if (!source || source.kind !== 'etcd') return '';
  const revision = source.lastRevision === null ? '' : `, revision ${source.lastRevision}`;
  if (source.connected) return ` · etcd connected${revision}`;
  return ` · etcd unreachable for ${formatDuration(Date.now() - source.since)}${revision}: ${source.lastError ?? 'no answer'} (serving the last known pool)`;
}

/**
 * `front f1: MASTER · holds 10.213.7.100 · peer f2 BACKUP, last contact 0.4 s ago`; amber in split
 * brain; hidden when the balancer is no front.
 * @param {FrontView | null | undefined} front
 */
function renderFront(front) {
  const line = $('front-info');
  line.hidden = !front;
  if (!front) return;
  const parts = [`front ${front.name}: ${front.vrrp}`];
  if (front.vrrp === 'MASTER') parts.push(front.vip ? `holds ${front.vip}` : 'holds the virtual IP');
  else if (front.priority !== null) parts[0] += ` (priority ${front.priority})`;
  if (front.vrrp === 'unknown' && front.stateProblem) parts.push(front.stateProblem);
  if (front.splitBrain) {
    const others = front.peers.filter((p) => p.present && p.vrrp === 'MASTER').map((p) => p.name);
    parts.push(`SPLIT BRAIN: ${others.join(', ') || 'another front'} also MASTER`);
  }
  for (const p of front.peers) {
    const ago = `last contact ${(p.lastContactMs / 1000).toFixed(1)} s ago`;
    parts.push(
      p.present ? `peer ${p.name} ${p.vrrp}, ${ago}` : `peer ${p.name} gone (was ${p.vrrp}), ${ago}`,
    );
  }
  if (front.peersFromEtcd && front.peers.length === 0) parts.push('no other front in etcd');
  setText(line, parts.join(' · '));
  line.dataset.state = front.vrrp;
  line.dataset.splitBrain = String(front.splitBrain);
}

/** @param {DashboardView} view */
function render(view) {
  lastFrameAt = Date.now();
  const b = view.balancer;
  setText(
    $('balancer-info'),
    `${b.name} · pid ${b.pid} · up ${formatDuration(b.uptimeMs)} · ${b.discovery} discovery · policy ${b.policy} · ${b.engine} · connections ${b.connections.open} of ${b.connections.limit}`,
  );
  setText($('discovery'), `${view.upstreams.length} in pool${describeSource(b.source)}`);
  $('discovery').dataset.connected = String(!b.source || b.source.connected);
  renderFront(b.front);
  renderUpstreams(view.upstreams, view.at);
  renderWorkers(view);
  renderTotals(view.totals);
  renderChanges(view.poolChanges, view.adminChanges);
  renderWorkerChanges(view.workerChanges);
  setText($('updated'), `updated ${formatClock(view.at)}`);
  setConnection('live');
  document.body.dataset.frames = String(Number(document.body.dataset.frames ?? 0) + 1);
}

/** @param {'live' | 'reconnecting' | 'stale'} state */
function setConnection(state) {
  const conn = $('connection');
  if (conn.dataset.state === state) return;
  conn.dataset.state = state;
  conn.textContent = state;
}

// ---- the stream ----

function connect() {
  const source = new EventSource(STREAM_URL);
  source.onmessage = (event) => render(JSON.parse(event.data));
  source.onerror = () => {
    setConnection('reconnecting');
    // EventSource retries by itself unless the answer was not a stream; then start over.
    if (source.readyState === EventSource.CLOSED) window.setTimeout(connect, 1000);
  };
}

window.setInterval(() => {
  if (lastFrameAt !== 0 && Date.now() - lastFrameAt > STALE_AFTER_MS) setConnection('stale');
}, 1000);

connect();
