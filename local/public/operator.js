// Operator page of the local twin (docs/adr/0080-operator-page.md). Plain browser JavaScript, no
// build step; Chart.js 4 comes from /vendor/chart.umd.js as the global `Chart`. Every value from the
// API is put into the DOM as text (never innerHTML): asset ids and reasons come from uploads.
'use strict';

const API = '/operator/api';
const POLL_MS = 2_000;
const QOE_POLL_MS = 5_000;
const FAULTS_POLL_MS = 3_000;
/** The API samples every 5 s; polling a little faster shows each new sample promptly. */
const BREAKS_POLL_MS = 2_500;
/** 15 minutes of 2 s samples per scope. */
const HISTORY_LIMIT = 450;
const GLOBAL_SCOPE = '*';

// Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9', '#000000', '#999999'];

const state = {
  /** Pathway ids in registry order; fixes each CDN's colour for the page's lifetime. */
  pathwayOrder: [],
  /** scope -> { labels: string[], samples: Array<Record<pathway, share>> } */
  history: new Map(),
  /** scope -> { card, chart, ... } */
  scopeViews: new Map(),
  qoe: null,
  qoeCharts: {},
  /** `GET /faults` distributions, newest read. */
  faults: null,
  /** `GET /breaks`: breaks with their events, and the sampled traffic and weights. */
  breaks: null,
  /** Id of the break the timeline shows; the newest when unset. */
  selectedBreak: null,
  timelineChart: null,
  weightHistorySeeded: false,
};

const hasCharts = () => typeof window.Chart !== 'undefined';

// ---------- small DOM helpers ----------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function colourOf(pathway) {
  let i = state.pathwayOrder.indexOf(pathway);
  if (i < 0) {
    state.pathwayOrder.push(pathway);
    i = state.pathwayOrder.length - 1;
  }
  return PALETTE[i % PALETTE.length];
}

/** `#rrggbb` + alpha for area fills. */
function translucent(hex, alpha) {
  const n = parseInt(hex.slice(1), 16);
  return `rgba(${(n >> 16) & 255}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

const pct = (share, digits = 0) => (share === null || share === undefined ? '–' : `${(share * 100).toFixed(digits)}%`);
const num = (value, digits = 0, unit = '') =>
  value === null || value === undefined ? '–' : `${Number(value).toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: digits })}${unit}`;
const clock = (date) => date.toLocaleTimeString('en-GB', { hour12: false });
const hhmm = (epochMs) => new Date(epochMs).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', hour12: false });

function relative(iso) {
  if (!iso) return '–';
  const seconds = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (!Number.isFinite(seconds)) return iso;
  if (seconds < 5) return 'just now';
  if (seconds < 90) return `${seconds} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return new Date(iso).toLocaleString('en-GB', { hour12: false });
}

async function getJson(path, init) {
  const response = await fetch(`${API}${path}`, { cache: 'no-store', ...init });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.message || `HTTP ${response.status}`);
  return body;
}

function setConnection(message, isError) {
  const node = document.getElementById('connection');
  node.textContent = message;
  node.classList.toggle('error', Boolean(isError));
}

function everySoOften(task, intervalMs) {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await task();
    } finally {
      running = false;
    }
  };
  void tick();
  return setInterval(tick, intervalMs);
}

// ---------- assets ----------

const STATUS_CLASS = { READY: 'ok', RECEIVED: 'progress', SUBMITTED: 'progress', PROGRESSING: 'progress', FAILED: 'bad', CANCELED: 'bad', TAKEDOWN_PENDING: 'bad', TAKEN_DOWN: 'bad' };

function badge(status) {
  return el('span', { class: `badge ${STATUS_CLASS[status] ?? ''}`, text: status ?? 'unknown' });
}

function renditionSummary(renditions) {
  if (!Array.isArray(renditions) || renditions.length === 0) return '–';
  const heights = renditions.filter((r) => r.type === 'video').map((r) => `${r.height}p`);
  const audio = renditions.filter((r) => r.type === 'audio').length;
  return [heights.join(' · '), audio ? `${audio} audio` : ''].filter(Boolean).join(', ');
}

/** Links to the player for an asset; the player waits for an asset that is not READY yet. */
function playLinks(asset) {
  const href = (player) => `/?asset=${encodeURIComponent(asset.assetId)}${player === 'hls' ? '' : `&player=${player}`}`;
  const playable = Boolean(asset.currentRevision) && asset.status !== 'TAKEDOWN_PENDING' && asset.status !== 'TAKEN_DOWN';
  return el(
    'span',
    { class: 'play-links' },
    el('a', { href: href('hls'), title: playable ? 'play in hls.js' : 'opens the player, which starts when the asset is READY', text: playable ? 'play HLS' : 'open player' }),
    playable ? el('a', { href: href('dash'), title: 'play in dash.js', text: 'DASH' }) : null,
    playable ? el('a', { href: href('shaka'), title: 'play the DASH manifest in Shaka Player', text: 'Shaka' }) : null,
  );
}

function renderAssets(assets) {
  const body = document.getElementById('assets');
  if (assets.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: 'No uploads yet. Copy a master into .twin/drop/ or s3://twin-uploads/uploads/.' })));
    return;
  }
  body.replaceChildren(
    ...assets.map((asset) => {
      const latest = asset.latest ?? {};
      const newestDiffers = latest.revision && latest.revision !== asset.currentRevision;
      const reason = latest.errorReason
        ? el('span', { class: 'failure' }, latest.errorReason, latest.errorCode ? el('span', { class: 'mono' }, ` (${latest.errorCode})`) : null)
        : '–';
      return el(
        'tr',
        {},
        el('th', { scope: 'row' }, el('span', { class: 'mono asset-id', text: asset.assetId }), playLinks(asset)),
        el('td', {}, badge(asset.status), newestDiffers && latest.status !== asset.status ? [' ', badge(latest.status)] : null),
        el('td', { class: 'mono', text: asset.currentRevision ?? 'none (not playable)' }),
        el('td', { class: 'mono' }, latest.revision ?? asset.latestRevision ?? '–', asset.revisionCount > 1 ? ` (${asset.revisionCount} revisions)` : ''),
        el('td', { text: renditionSummary(latest.renditions) }),
        el('td', { title: asset.updatedAt ?? '', text: relative(asset.updatedAt) }),
        el('td', {}, reason),
      );
    }),
  );
}

async function pollAssets() {
  try {
    const { assets } = await getJson('/assets');
    renderAssets(assets);
  } catch (error) {
    setConnection(`Assets: ${error.message}`, true);
  }
}

// ---------- routing weights ----------

function scopeTitle(scope) {
  return scope === GLOBAL_SCOPE ? 'Global (*)' : scope;
}

function renderLegend(pathways) {
  const legend = document.getElementById('pathway-legend');
  legend.replaceChildren(
    ...pathways.map((p) =>
      el(
        'span',
        { class: 'legend-item' },
        el('span', { class: 'swatch', style: `background:${colourOf(p.id)}`, 'aria-hidden': 'true' }),
        el('span', { class: 'mono', text: p.id }),
        el('span', { class: 'disabled-note', text: `${p.enabled ? '' : 'disabled · '}cap ${pct(p.cap)}` }),
      ),
    ),
  );
}

function sharesText(shares) {
  const ids = Object.keys(shares ?? {}).sort((a, b) => colourIndex(a) - colourIndex(b));
  return ids.map((id) => `${id} ${pct(shares[id], 1)}`).join(' · ');
}

function colourIndex(pathway) {
  colourOf(pathway);
  return state.pathwayOrder.indexOf(pathway);
}

function createScopeView(scope) {
  const canvas = el('canvas', { role: 'img', 'aria-label': `Routing weights over time for ${scopeTitle(scope)}` });
  const meta = el('span', { class: 'scope-meta' });
  const shares = el('p', { class: 'shares' });
  const reason = el('p', { class: 'reason' });
  const card = el(
    'article',
    { class: 'card', 'data-scope': scope, 'aria-label': `Routing weights, ${scopeTitle(scope)}` },
    el('div', { class: 'scope-head' }, el('h3', { text: scopeTitle(scope) }), meta),
    el('div', { class: 'chart-box' }, canvas),
    shares,
    reason,
  );
  let chart = null;
  if (hasCharts()) {
    chart = new window.Chart(canvas, {
      type: 'line',
      data: { labels: [], datasets: [] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: 'index', intersect: false },
        elements: { point: { radius: 0 }, line: { borderWidth: 1.5, tension: 0 } },
        scales: {
          x: { ticks: { maxTicksLimit: 6, autoSkip: true, maxRotation: 0 } },
          y: { stacked: true, min: 0, max: 100, ticks: { callback: (v) => `${v}%` } },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${ctx.parsed.y.toFixed(1)}%` } },
        },
      },
    });
  }
  return { card, canvas, meta, shares, reason, chart };
}

function orderScopeCards(container, scopes) {
  const wanted = scopes.map((s) => state.scopeViews.get(s.scope).card);
  const current = [...container.children];
  if (wanted.length !== current.length || wanted.some((card, i) => card !== current[i])) container.replaceChildren(...wanted);
}

function renderRouting({ pathways, scopes }) {
  for (const p of pathways) colourOf(p.id);
  renderLegend(pathways);
  const container = document.getElementById('routing-scopes');
  if (scopes.length === 0) {
    if (!container.querySelector('.empty')) container.replaceChildren(el('p', { class: 'empty', text: 'No weights written yet. routing-weights runs every 10 s once rollups arrive.' }));
    return;
  }
  const label = clock(new Date());
  for (const scope of scopes) {
    if (!state.scopeViews.has(scope.scope)) state.scopeViews.set(scope.scope, createScopeView(scope.scope));
    const history = state.history.get(scope.scope) ?? { labels: [], samples: [], times: [] };
    history.labels.push(label);
    history.samples.push({ ...scope.weights });
    history.times.push(Date.now());
    if (history.labels.length > HISTORY_LIMIT) {
      history.labels.shift();
      history.samples.shift();
      history.times.shift();
    }
    state.history.set(scope.scope, history);

    const view = state.scopeViews.get(scope.scope);
    view.meta.textContent = `v${scope.version} · ${relative(scope.updatedAt)}`;
    view.meta.title = scope.updatedAt ?? '';
    const targetDiffers = scope.target && Object.keys(scope.target).some((id) => Math.abs((scope.target[id] ?? 0) - (scope.weights[id] ?? 0)) > 0.005);
    view.shares.replaceChildren(
      ...[
        el('span', { text: sharesText(scope.weights) }),
        targetDiffers ? el('span', { class: 'target', text: ` → moving toward ${sharesText(scope.target)}` }) : null,
      ].filter(Boolean),
    );
    view.reason.replaceChildren(el('span', { class: 'reason-label', text: 'Last change' }), scope.reason || 'no reason recorded');
    view.canvas.setAttribute('aria-label', `Routing weights for ${scopeTitle(scope.scope)}: ${sharesText(scope.weights)}`);
    if (view.chart) updateScopeChart(view.chart, history);
  }
  orderScopeCards(container, scopes);
}

function updateScopeChart(chart, history) {
  const ids = [...new Set(history.samples.flatMap((s) => Object.keys(s)))].sort((a, b) => colourIndex(a) - colourIndex(b));
  chart.data.labels = history.labels.slice();
  chart.data.datasets = ids.map((id, i) => ({
    label: id,
    data: history.samples.map((s) => (s[id] ?? 0) * 100),
    borderColor: colourOf(id),
    backgroundColor: translucent(colourOf(id), 0.55),
    fill: i === 0 ? 'origin' : '-1',
  }));
  chart.update('none');
}

async function pollRouting() {
  try {
    renderRouting(await getJson('/routing'));
    setConnection(`Live · updated ${clock(new Date())}`, false);
  } catch (error) {
    setConnection(`Routing: ${error.message}`, true);
  }
}

// ---------- QoE ----------

const QOE_METRICS = [
  { chart: 'chart-errors', field: 'errorRate', scale: 100, unit: '%', digits: 2 },
  { chart: 'chart-rebuffering', field: 'rebufferingRatio', scale: 100, unit: '%', digits: 2 },
  { chart: 'chart-ttfb', field: 'meanTtfbMs', scale: 1, unit: ' ms', digits: 0 },
  { chart: 'chart-throughput', field: 'meanThroughputKbps', scale: 1, unit: ' kbit/s', digits: 0 },
];

function qoeChart(metric) {
  if (!hasCharts()) return null;
  if (state.qoeCharts[metric.chart]) return state.qoeCharts[metric.chart];
  const chart = new window.Chart(document.getElementById(metric.chart), {
    type: 'line',
    data: { labels: [], datasets: [] },
    options: {
      animation: false,
      maintainAspectRatio: false,
      spanGaps: false,
      interaction: { mode: 'index', intersect: false },
      elements: { point: { radius: 2 }, line: { borderWidth: 2, tension: 0 } },
      scales: { x: { ticks: { maxTicksLimit: 8, maxRotation: 0 } }, y: { beginAtZero: true } },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 12 } },
        tooltip: {
          callbacks: {
            label: (ctx) => (ctx.parsed.y === null ? `${ctx.dataset.label}: no data` : `${ctx.dataset.label}: ${num(ctx.parsed.y, metric.digits, metric.unit)}`),
          },
        },
      },
    },
  });
  state.qoeCharts[metric.chart] = chart;
  return chart;
}

function selectedSeries() {
  if (!state.qoe) return [];
  const country = document.getElementById('qoe-country').value;
  if (!country) return state.qoe.pathways;
  return state.qoe.cells.filter((cell) => cell.country === country);
}

function renderCountryOptions() {
  const select = document.getElementById('qoe-country');
  const countries = [...new Set(state.qoe.cells.map((c) => c.country))].sort();
  const chosen = select.value;
  const existing = [...select.options].slice(1).map((o) => o.value);
  if (existing.join() === countries.join()) return;
  select.replaceChildren(
    el('option', { value: '', text: 'All countries' }),
    ...countries.map((c) => el('option', { value: c, text: c })),
  );
  select.value = countries.includes(chosen) ? chosen : '';
}

function renderQoe() {
  renderCountryOptions();
  const series = selectedSeries().slice().sort((a, b) => colourIndex(a.pathway) - colourIndex(b.pathway));
  const labels = state.qoe.minutes.map(hhmm);
  for (const metric of QOE_METRICS) {
    const chart = qoeChart(metric);
    const canvas = document.getElementById(metric.chart);
    const latest = series.map((s) => `${s.pathway} ${num(s.total[metric.field] === null ? null : s.total[metric.field] * metric.scale, metric.digits, metric.unit)}`).join(', ');
    canvas.setAttribute('aria-label', `${canvas.closest('figure').querySelector('figcaption').textContent}, whole window: ${latest || 'no data'}`);
    if (!chart) continue;
    chart.data.labels = labels;
    chart.data.datasets = series.map((s) => ({
      label: s.pathway,
      data: s.points.map((p) => (p[metric.field] === null ? null : p[metric.field] * metric.scale)),
      borderColor: colourOf(s.pathway),
      backgroundColor: colourOf(s.pathway),
    }));
    chart.update('none');
  }
  const body = document.getElementById('qoe-summary');
  if (series.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 10, class: 'empty', text: 'No rollups in this window.' })));
    return;
  }
  body.replaceChildren(
    ...series.map((s) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, el('span', { class: 'swatch', style: `background:${colourOf(s.pathway)}`, 'aria-hidden': 'true' }), ' ', el('span', { class: 'mono', text: s.pathway })),
        el('td', { class: 'num', text: num(s.total.requests) }),
        el('td', { class: 'num', text: num(s.total.reports) }),
        el('td', { class: 'num', text: num(s.total.errors) }),
        el('td', { class: 'num', text: pct(s.total.errorRate, 2) }),
        el('td', { class: 'num', text: pct(s.total.rebufferingRatio, 2) }),
        el('td', { class: 'num', text: num(s.total.meanTtfbMs, 0, ' ms') }),
        el('td', { class: 'num', text: num(s.total.meanPlayerTtfbMs, 0, ' ms') }),
        el('td', { class: 'num', text: num(s.total.meanThroughputKbps, 0, ' kbit/s') }),
        el('td', { class: 'num', text: num(s.total.meanStartupMs, 0, ' ms') }),
      ),
    ),
  );
}

async function pollQoe() {
  const minutes = document.getElementById('qoe-minutes').value;
  try {
    state.qoe = await getJson(`/qoe?minutes=${encodeURIComponent(minutes)}`);
    renderQoe();
  } catch (error) {
    setConnection(`QoE: ${error.message}`, true);
  }
}

// ---------- faults ----------

const FAULT_FIELDS = ['down', 'errorRate', 'latencyMs', 'throughputKbps'];

function faultSummary(view) {
  if (view.error) return { text: 'unreachable', kind: 'bad' };
  const f = view.faults ?? {};
  const parts = [];
  if (f.down === true || f.down === 'reset') parts.push('down (reset)');
  if (f.down === '503') parts.push('down (503)');
  if (f.errorRate) parts.push(`${pct(f.errorRate)} errors`);
  if (f.latencyMs) parts.push(`+${f.latencyMs} ms`);
  if (f.throughputKbps) parts.push(`≤ ${f.throughputKbps} kbit/s`);
  return parts.length ? { text: parts.join(', '), kind: f.down ? 'bad' : 'progress' } : { text: 'healthy', kind: 'ok' };
}

/** Faults with every field present, off values for absent ones, so two sets compare field by field. */
function normalisedFaults(faults = {}) {
  return {
    down: faults.down === '503' ? '503' : faults.down === true || faults.down === 'reset' ? 'reset' : false,
    errorRate: Number(faults.errorRate) || 0,
    latencyMs: Number(faults.latencyMs) || 0,
    throughputKbps: Number(faults.throughputKbps) || 0,
  };
}

/** Shows one fault field (normalised value) in the form's inputs. */
function setFaultField(form, name, value) {
  if (name === 'down') {
    form.elements.down.checked = value !== false;
    form.elements.downMode.value = value === '503' ? '503' : 'reset';
  } else if (name === 'errorRate') form.elements.errorRate.value = String(Math.round(value * 100));
  else form.elements[name].value = String(value);
}

function fillFaultForm(form, faults = {}) {
  const f = normalisedFaults(faults);
  for (const name of FAULT_FIELDS) setFaultField(form, name, f[name]);
}

function faultsFromForm(form) {
  const number = (name) => Math.max(0, Number(form.elements[name].value) || 0);
  return {
    down: form.elements.down.checked ? form.elements.downMode.value : false,
    errorRate: Math.min(100, number('errorRate')) / 100,
    latencyMs: Math.min(60_000, number('latencyMs')),
    throughputKbps: number('throughputKbps'),
  };
}

function createFaultCard(view) {
  const id = view.id;
  const field = (label, input, help) => el('div', { class: 'fault-row' }, el('label', { for: input.id, text: label }), input, help);
  const status = el('p', { class: 'fault-status', role: 'status', 'aria-live': 'polite' });
  const drift = el('p', { class: 'fault-drift', role: 'status', 'aria-live': 'polite', hidden: true });
  const summary = el('span', { class: 'badge' });
  const form = el(
    'form',
    {},
    el(
      'fieldset',
      { class: 'card' },
      el('legend', {}, el('span', { class: 'swatch', style: `background:${colourOf(id)}`, 'aria-hidden': 'true' }), el('span', { class: 'mono', text: id }), summary),
      field('Down', el('input', { type: 'checkbox', id: `${id}-down`, name: 'down' })),
      field(
        'Failure when down',
        el('select', { id: `${id}-downMode`, name: 'downMode' }, el('option', { value: 'reset', text: 'connection reset' }), el('option', { value: '503', text: 'HTTP 503' })),
      ),
      field('Error rate (%)', el('input', { type: 'number', id: `${id}-errorRate`, name: 'errorRate', min: 0, max: 100, step: 1, inputmode: 'numeric' })),
      field('Added latency (ms)', el('input', { type: 'number', id: `${id}-latencyMs`, name: 'latencyMs', min: 0, max: 60000, step: 50, inputmode: 'numeric' })),
      field('Throughput cap (kbit/s, 0 = none)', el('input', { type: 'number', id: `${id}-throughputKbps`, name: 'throughputKbps', min: 0, step: 100, inputmode: 'numeric' })),
      drift,
      el(
        'div',
        { class: 'fault-actions' },
        el('button', { type: 'submit', text: 'Apply' }),
        el('button', { type: 'button', class: 'secondary', name: 'heal', text: 'Heal' }),
        el('button', { type: 'button', class: 'secondary', name: 'discard', text: 'Discard edits', hidden: true }),
      ),
      status,
    ),
  );
  // `shown` is what the inputs were filled with from the CDN, per field. Every field the operator has not
  // edited keeps following the CDN (faults set with curl or by a break included); Apply sends only the
  // edited fields, so a fault the operator did not touch is never switched off by accident.
  const card = { form, summary, drift, shown: normalisedFaults(view.faults), latest: normalisedFaults(view.faults) };
  const setDirty = (dirty) => {
    form.elements.discard.hidden = !dirty;
    if (!dirty) drift.hidden = true;
  };
  const send = async (init, done) => {
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    status.classList.remove('error');
    status.textContent = 'Sending…';
    try {
      const result = await getJson(`/faults/${encodeURIComponent(id)}`, init);
      card.shown = normalisedFaults(result.faults);
      card.latest = { ...card.shown };
      fillFaultForm(form, result.faults);
      setDirty(false);
      setFaultSummary(summary, { id, faults: result.faults });
      status.textContent = `${done} at ${clock(new Date())}`;
    } catch (error) {
      status.classList.add('error');
      status.textContent = `Failed: ${error.message}`;
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  form.addEventListener('input', () => setDirty(editedFaultFields(card).length > 0));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const wanted = faultsFromForm(form);
    const changed = Object.fromEntries(editedFaultFields(card).map((name) => [name, wanted[name]]));
    if (Object.keys(changed).length === 0) {
      status.textContent = 'Nothing edited: the form shows the faults the CDN has.';
      return;
    }
    void send({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(changed) }, `Applied ${Object.keys(changed).join(', ')}`);
  });
  form.elements.heal.addEventListener('click', () => void send({ method: 'DELETE' }, 'Healed'));
  form.elements.discard.addEventListener('click', () => {
    card.shown = { ...card.latest };
    fillFaultForm(form, card.shown);
    setDirty(false);
  });
  fillFaultForm(form, view.faults);
  setFaultSummary(summary, view);
  return card;
}

function setFaultSummary(node, view) {
  const { text, kind } = faultSummary(view);
  node.className = `badge ${kind}`;
  node.textContent = text;
  node.title = view.error ?? '';
}

/** Fields whose input differs from what the CDN had when it was shown: the operator's edits. */
function editedFaultFields(card) {
  const wanted = faultsFromForm(card.form);
  return FAULT_FIELDS.filter((name) => wanted[name] !== card.shown[name]);
}

/** The CDN's faults as read back from its control API: every field not being edited follows them. */
function syncFaultCard(card, view) {
  setFaultSummary(card.summary, view);
  if (view.error) return;
  const current = normalisedFaults(view.faults);
  card.latest = current;
  const edited = editedFaultFields(card);
  const underneath = edited.filter((name) => current[name] !== card.shown[name]);
  for (const name of FAULT_FIELDS) {
    if (edited.includes(name)) continue;
    if (current[name] !== card.shown[name]) setFaultField(card.form, name, current[name]);
    card.shown[name] = current[name];
  }
  if (underneath.length > 0) {
    card.drift.hidden = false;
    card.drift.textContent = `Changed on the CDN while you were editing ${underneath.join(', ')}: it now has ${faultSummary(view).text}. Apply sets only the fields you edited.`;
  }
}

const faultCards = new Map();

async function pollFaults() {
  let body;
  try {
    body = await getJson('/faults');
  } catch (error) {
    setConnection(`Faults: ${error.message}`, true);
    return;
  }
  state.faults = body.distributions;
  const container = document.getElementById('faults');
  if (body.distributions.length === 0) {
    container.replaceChildren(el('p', { class: 'empty', text: 'No delivery distributions are registered with the operator API.' }));
    return;
  }
  for (const view of body.distributions) {
    colourOf(view.id);
    if (!faultCards.has(view.id)) faultCards.set(view.id, createFaultCard(view));
    else syncFaultCard(faultCards.get(view.id), view);
  }
  const forms = body.distributions.map((view) => faultCards.get(view.id).form);
  if (forms.some((form, i) => container.children[i] !== form) || container.children.length !== forms.length) container.replaceChildren(...forms);
  renderBreakButtons();
}

// ---------- CDN breaks and their timeline ----------

const BREAK_SECONDS = 60;
const EVENT_LABELS = {
  'break-started': 'break started',
  'traffic-left': 'players switched away',
  'weights-moved': 'weights moved',
  demoted: 'demoted',
  'break-ended': 'healed',
  'traffic-returned': 'players back',
  readmitted: 're-admitted',
};
const EVENT_COLOURS = { 'break-started': '#8a1c1c', 'break-ended': '#14532d', readmitted: '#14532d', 'traffic-returned': '#14532d' };

function activeBreakOf(pathway) {
  return (state.breaks?.breaks ?? []).find((b) => b.pathway === pathway && b.healedAt === undefined);
}

function renderBreakButtons() {
  const container = document.getElementById('break-buttons');
  const ids = (state.faults ?? []).map((d) => d.id);
  if (ids.length === 0) return;
  if (container.dataset.ids !== ids.join()) {
    container.dataset.ids = ids.join();
    container.replaceChildren(
      ...ids.map((id) =>
        el(
          'div',
          { class: 'break-control', 'data-pathway': id },
          el('button', { type: 'button', class: 'break', 'data-pathway': id, onclick: () => void startBreak(id) }, el('span', { class: 'swatch', style: `background:${colourOf(id)}`, 'aria-hidden': 'true' }), `Break ${id} for ${BREAK_SECONDS} s`),
          el('span', { class: 'break-state', role: 'status', 'aria-live': 'polite' }),
          el('button', { type: 'button', class: 'secondary end-break', hidden: true, onclick: () => void endBreak(id), text: 'Heal now' }),
        ),
      ),
    );
  }
  for (const control of container.querySelectorAll('.break-control')) {
    const id = control.dataset.pathway;
    const active = activeBreakOf(id);
    const faults = (state.faults ?? []).find((d) => d.id === id);
    control.querySelector('button.break').disabled = Boolean(active);
    control.querySelector('.end-break').hidden = !active;
    control.querySelector('.break-state').textContent = active
      ? `broken, ${Math.max(0, Math.round((active.endsAt - Date.now()) / 1000))} s left`
      : faults
        ? faultSummary(faults).text
        : '';
  }
}

async function startBreak(pathway) {
  const mode = document.getElementById('break-mode').value;
  const status = document.getElementById('break-status');
  status.classList.remove('error');
  try {
    const started = await getJson('/breaks', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ pathway, seconds: BREAK_SECONDS, faults: { down: mode === 'reset' ? true : '503' } }),
    });
    state.selectedBreak = started.id;
    status.dataset.breakId = started.id;
    status.textContent = `${pathway} broken at ${clock(new Date(started.startedAt))}; it heals by itself at ${clock(new Date(started.endsAt))}.`;
  } catch (error) {
    status.classList.add('error');
    status.textContent = `Could not break ${pathway}: ${error.message}`;
  }
  await pollBreaks();
  await pollFaults();
}

async function endBreak(pathway) {
  const active = activeBreakOf(pathway);
  if (!active) return;
  const status = document.getElementById('break-status');
  try {
    await getJson(`/breaks/${encodeURIComponent(active.id)}`, { method: 'DELETE' });
    status.textContent = `${pathway} healed early at ${clock(new Date())}.`;
  } catch (error) {
    status.classList.add('error');
    status.textContent = `Could not heal ${pathway}: ${error.message}`;
  }
  await pollBreaks();
  await pollFaults();
}

/** Draws the break as a shaded band and each event as a numbered vertical line (Chart.js plugin, no dependency). */
const breakMarkers = {
  id: 'breakMarkers',
  beforeDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    const band = options.band;
    if (!band) return;
    const left = Math.max(chartArea.left, scales.x.getPixelForValue(band.from));
    const right = Math.min(chartArea.right, scales.x.getPixelForValue(band.to));
    ctx.save();
    ctx.fillStyle = 'rgba(198, 40, 40, 0.10)';
    if (right > left) ctx.fillRect(left, chartArea.top, right - left, chartArea.bottom - chartArea.top);
    ctx.restore();
  },
  afterDatasetsDraw(chart, _args, options) {
    const { ctx, chartArea, scales } = chart;
    ctx.save();
    ctx.font = '600 11px system-ui, sans-serif';
    ctx.textAlign = 'center';
    for (const marker of options.markers ?? []) {
      const x = scales.x.getPixelForValue(marker.x);
      if (x < chartArea.left || x > chartArea.right) continue;
      ctx.strokeStyle = marker.colour;
      ctx.fillStyle = marker.colour;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(x, chartArea.top + 14);
      ctx.lineTo(x, chartArea.bottom);
      ctx.stroke();
      ctx.fillText(String(marker.label), x, chartArea.top + 10 + marker.row * 12);
    }
    ctx.restore();
  },
};

function timelineChart() {
  if (!hasCharts()) return null;
  if (state.timelineChart) return state.timelineChart;
  state.timelineChart = new window.Chart(document.getElementById('chart-timeline'), {
    type: 'line',
    data: { datasets: [] },
    plugins: [breakMarkers],
    options: {
      animation: false,
      maintainAspectRatio: false,
      parsing: false,
      interaction: { mode: 'nearest', axis: 'x', intersect: false },
      elements: { point: { radius: 0 }, line: { borderWidth: 2, tension: 0 } },
      scales: {
        x: { type: 'linear', title: { display: true, text: 'seconds since the break started' }, ticks: { stepSize: 15 } },
        y: { min: 0, max: 100, title: { display: true, text: '%' }, ticks: { callback: (v) => `${v}%` } },
      },
      plugins: {
        legend: { position: 'bottom', labels: { boxWidth: 18 } },
        tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${ctx.parsed.y.toFixed(1)}%` } },
      },
    },
  });
  return state.timelineChart;
}

function selectedBreak() {
  const breaks = state.breaks?.breaks ?? [];
  return breaks.find((b) => b.id === state.selectedBreak) ?? breaks[0];
}

function renderBreakChoice(breaks) {
  const select = document.getElementById('break-choice');
  const options = breaks.map((b) => `${b.id}|${b.pathway}|${b.startedAt}`).join();
  if (select.dataset.options !== options) {
    select.dataset.options = options;
    select.replaceChildren(...breaks.map((b) => el('option', { value: b.id, text: `${b.pathway} at ${clock(new Date(b.startedAt))}` })));
  }
  select.disabled = breaks.length < 2;
  const shown = selectedBreak();
  if (shown) select.value = shown.id;
}

function renderTimeline() {
  const view = state.breaks;
  const breaks = view?.breaks ?? [];
  renderBreakChoice(breaks);
  const shown = selectedBreak();
  const list = document.getElementById('timeline-events');
  const caption = document.getElementById('timeline-caption');
  if (!shown) {
    caption.textContent = 'No break yet. Press a button above: the chart then shows each CDN’s share of requests and the broken CDN’s routing weight, second by second.';
    list.replaceChildren();
    return;
  }
  const t0 = shown.startedAt;
  const seconds = (at) => Math.round((at - t0) / 100) / 10;
  const end = shown.healedAt ?? Date.now();
  const from = -60;
  // Up to three minutes after the heal, and far enough to show every event (a late re-admission too).
  const lastEvent = Math.max(...shown.events.map((e) => seconds(e.at)));
  const to = Math.max(seconds(end) + 90, seconds(Math.min(Date.now(), end + 180_000)), lastEvent + 15);
  const traffic = view.traffic.filter((b) => seconds(b.at) >= from && seconds(b.at) <= to);
  const pathways = [...new Set(traffic.flatMap((b) => Object.keys(b.pathways)))].sort((a, b) => colourIndex(a) - colourIndex(b));
  const datasets = pathways.map((id) => ({
    label: `${id} share of CDN requests`,
    data: traffic.map((b) => {
      const total = Object.values(b.pathways).reduce((sum, p) => sum + p.requests, 0);
      return { x: seconds(b.at), y: total > 0 ? (100 * (b.pathways[id]?.requests ?? 0)) / total : null };
    }),
    borderColor: colourOf(id),
    backgroundColor: colourOf(id),
    spanGaps: true,
  }));
  const dashes = [[6, 4], [2, 3], [10, 3, 2, 3], [1, 6]];
  const weightSamples = view.weights.filter((w) => seconds(w.at) >= from && seconds(w.at) <= to);
  [...new Set(weightSamples.map((w) => w.scope))].sort().forEach((scope, i) => {
    datasets.push({
      label: `${shown.pathway} routing weight (${scope === GLOBAL_SCOPE ? 'global' : scope})`,
      data: weightSamples.filter((w) => w.scope === scope).map((w) => ({ x: seconds(w.at), y: 100 * (w.weights[shown.pathway] ?? 0) })),
      borderColor: colourOf(shown.pathway),
      backgroundColor: '#ffffff',
      borderDash: dashes[i % dashes.length],
      borderWidth: 2.5,
      stepped: true,
    });
  });
  // One marker per instant (events of one sample share it), labelled with the list numbers it stands for;
  // markers a few seconds apart are stacked so their labels stay readable.
  const markers = [];
  shown.events.forEach((event, i) => {
    const last = markers.at(-1);
    if (last && last.at === event.at) {
      last.last = i + 1;
      return;
    }
    const near = markers.filter((m) => Math.abs(seconds(m.at) - seconds(event.at)) < 4).length;
    markers.push({ at: event.at, x: seconds(event.at), first: i + 1, last: i + 1, row: near, colour: EVENT_COLOURS[event.kind] ?? '#1b1f24' });
  });
  for (const marker of markers) marker.label = marker.first === marker.last ? String(marker.first) : `${marker.first}–${marker.last}`;
  const chart = timelineChart();
  if (chart) {
    chart.data.datasets = datasets;
    chart.options.scales.x.min = from;
    chart.options.scales.x.max = Math.ceil(to / 15) * 15;
    chart.options.plugins.breakMarkers = { band: { from: 0, to: seconds(end) }, markers };
    chart.update('none');
  }
  const status = document.getElementById('break-status');
  if (status.dataset.breakId === shown.id && shown.healedAt !== undefined && !status.classList.contains('error')) {
    status.textContent = `${shown.pathway} healed at ${clock(new Date(shown.healedAt))}.`;
  }
  const state_ = shown.healedAt === undefined ? `broken now, heals at ${clock(new Date(shown.endsAt))}` : `healed after ${seconds(shown.healedAt)} s`;
  caption.textContent = `${shown.pathway} broken at ${clock(new Date(t0))} (${state_}${shown.healError ? `; heal failed: ${shown.healError}` : ''}). Solid lines: each CDN’s share of requests per ${Math.round((view.sampleEveryMs || 5000) / 1000)} s (real-time logs via the QoE rollups); dashed: ${shown.pathway}’s routing weight per country.`;
  document.getElementById('chart-timeline').setAttribute('aria-label', `Timeline of the ${shown.pathway} break: ${shown.events.map((e) => `${seconds(e.at)} s ${EVENT_LABELS[e.kind]}`).join('; ')}`);
  list.replaceChildren(
    ...shown.events.map((event) =>
      el(
        'li',
        { class: `event ${event.kind}` },
        el('span', { class: 'event-time', text: `${seconds(event.at) >= 0 ? '+' : ''}${seconds(event.at).toFixed(1)} s` }),
        el('span', { class: 'event-clock', text: clock(new Date(event.at)) }),
        el('span', { class: `badge ${event.kind === 'break-started' || event.kind === 'demoted' ? 'bad' : event.kind === 'readmitted' || event.kind === 'break-ended' || event.kind === 'traffic-returned' ? 'ok' : 'progress'}`, text: EVENT_LABELS[event.kind] ?? event.kind }),
        el('span', { class: 'event-text', text: event.text }),
      ),
    ),
  );
  if (shown.healedAt === undefined || Date.now() - shown.healedAt < 180_000) {
    const waiting = [];
    if (!shown.events.some((e) => e.kind === 'traffic-left')) waiting.push('players to switch away');
    if (!shown.events.some((e) => e.kind === 'demoted')) waiting.push('a demotion below 10 %');
    if (shown.healedAt !== undefined && shown.events.some((e) => e.kind === 'demoted') && !shown.events.some((e) => e.kind === 'readmitted')) waiting.push('re-admission (≥ 10 %)');
    if (waiting.length > 0) list.append(el('li', { class: 'event pending', text: `Waiting for ${waiting.join(', ')}…` }));
  }
}

/**
 * The operator API keeps 30 minutes of weights (sampled every 5 s, ADR 0083); once per page load they are
 * put in front of the charts' own 2 s samples, so a reload does not start the charts from nothing.
 */
function seedWeightHistory(samples) {
  if (state.weightHistorySeeded) return;
  state.weightHistorySeeded = true;
  for (const scope of new Set(samples.map((w) => w.scope))) {
    const history = state.history.get(scope) ?? { labels: [], samples: [], times: [] };
    const firstLocal = history.times[0] ?? Infinity;
    const older = samples.filter((w) => w.scope === scope && w.at < firstLocal).slice(-(HISTORY_LIMIT - history.times.length));
    history.labels.unshift(...older.map((w) => clock(new Date(w.at))));
    history.samples.unshift(...older.map((w) => ({ ...w.weights })));
    history.times.unshift(...older.map((w) => w.at));
    state.history.set(scope, history);
  }
}

async function pollBreaks() {
  try {
    state.breaks = await getJson('/breaks');
    seedWeightHistory(state.breaks.weights);
    renderTimeline();
    renderBreakButtons();
  } catch (error) {
    setConnection(`Breaks: ${error.message}`, true);
  }
}

// ---------- start ----------

async function start() {
  if (!hasCharts()) setConnection('Chart.js did not load (/vendor/chart.umd.js); showing text only', true);
  // Colours follow the CDNs' registry order, as on the player page, whichever poll answers first.
  try {
    const config = await (await fetch('/twin/config.json', { cache: 'no-store' })).json();
    for (const cdn of config.cdns ?? []) colourOf(cdn.id);
  } catch {
    // Without the config the first poll that names a CDN fixes its colour.
  }
  document.getElementById('qoe-minutes').addEventListener('change', () => void pollQoe());
  document.getElementById('qoe-country').addEventListener('change', () => state.qoe && renderQoe());
  everySoOften(pollRouting, POLL_MS);
  everySoOften(pollAssets, POLL_MS);
  everySoOften(pollQoe, QOE_POLL_MS);
  everySoOften(pollFaults, FAULTS_POLL_MS);
  everySoOften(pollBreaks, BREAKS_POLL_MS);
  document.getElementById('break-choice').addEventListener('change', (event) => {
    state.selectedBreak = event.target.value;
    renderTimeline();
  });
  // The countdown on the break buttons ticks between polls.
  setInterval(renderBreakButtons, 1000);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start());
else void start();
