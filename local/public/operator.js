// Operator page of the local twin (docs/adr/0080-operator-page.md). Plain browser JavaScript, no
// build step; Chart.js 4 comes from /vendor/chart.umd.js as the global `Chart`. Every value from the
// API is put into the DOM as text (never innerHTML): asset ids and reasons come from uploads.
'use strict';

const API = '/operator/api';
const POLL_MS = 2_000;
const QOE_POLL_MS = 5_000;
const FAULTS_POLL_MS = 5_000;
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
  faultsBuilt: false,
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

const STATUS_CLASS = { READY: 'ok', RECEIVED: 'progress', SUBMITTED: 'progress', PROGRESSING: 'progress', FAILED: 'bad', CANCELED: 'bad', DELETED: 'bad' };

function badge(status) {
  return el('span', { class: `badge ${STATUS_CLASS[status] ?? ''}`, text: status ?? 'unknown' });
}

function renditionSummary(renditions) {
  if (!Array.isArray(renditions) || renditions.length === 0) return '–';
  const heights = renditions.filter((r) => r.type === 'video').map((r) => `${r.height}p`);
  const audio = renditions.filter((r) => r.type === 'audio').length;
  return [heights.join(' · '), audio ? `${audio} audio` : ''].filter(Boolean).join(', ');
}

function renderAssets(assets) {
  const body = document.getElementById('assets');
  if (assets.length === 0) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: 7, class: 'empty', text: 'No uploads yet. Copy a master into s3://twin-uploads/uploads/.' })));
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
        el('th', { scope: 'row' }, el('span', { class: 'mono', text: asset.assetId })),
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
    const history = state.history.get(scope.scope) ?? { labels: [], samples: [] };
    history.labels.push(label);
    history.samples.push({ ...scope.weights });
    if (history.labels.length > HISTORY_LIMIT) {
      history.labels.shift();
      history.samples.shift();
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
    body.replaceChildren(el('tr', {}, el('td', { colspan: 9, class: 'empty', text: 'No rollups in this window.' })));
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

function fillFaultForm(form, faults = {}) {
  form.elements.down.checked = Boolean(faults.down);
  form.elements.downMode.value = faults.down === '503' ? '503' : 'reset';
  form.elements.errorRate.value = String(Math.round((faults.errorRate ?? 0) * 100));
  form.elements.latencyMs.value = String(faults.latencyMs ?? 0);
  form.elements.throughputKbps.value = String(faults.throughputKbps ?? 0);
}

function faultsFromForm(form) {
  const number = (name) => Math.max(0, Number(form.elements[name].value) || 0);
  return {
    // The control API merges fields, so every field is sent: 0 / false switch a fault off.
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
      el(
        'div',
        { class: 'fault-actions' },
        el('button', { type: 'submit', text: 'Apply' }),
        el('button', { type: 'button', class: 'secondary', name: 'heal', text: 'Heal' }),
      ),
      status,
    ),
  );
  const send = async (init, done) => {
    const buttons = form.querySelectorAll('button');
    buttons.forEach((b) => (b.disabled = true));
    status.classList.remove('error');
    status.textContent = 'Sending…';
    try {
      const result = await getJson(`/faults/${encodeURIComponent(id)}`, init);
      fillFaultForm(form, result.faults);
      setFaultSummary(summary, { id, faults: result.faults });
      status.textContent = `${done} at ${clock(new Date())}`;
    } catch (error) {
      status.classList.add('error');
      status.textContent = `Failed: ${error.message}`;
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void send({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(faultsFromForm(form)) }, 'Applied');
  });
  form.elements.heal.addEventListener('click', () => void send({ method: 'DELETE' }, 'Healed'));
  fillFaultForm(form, view.faults);
  setFaultSummary(summary, view);
  return { form, summary };
}

function setFaultSummary(node, view) {
  const { text, kind } = faultSummary(view);
  node.className = `badge ${kind}`;
  node.textContent = text;
  node.title = view.error ?? '';
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
  const container = document.getElementById('faults');
  if (body.distributions.length === 0) {
    container.replaceChildren(el('p', { class: 'empty', text: 'No delivery distributions are registered with the operator API.' }));
    return;
  }
  for (const view of body.distributions) {
    colourOf(view.id);
    if (!faultCards.has(view.id)) faultCards.set(view.id, createFaultCard(view));
    // Only the badge follows the server; the inputs keep whatever the operator is typing.
    else setFaultSummary(faultCards.get(view.id).summary, view);
  }
  const forms = body.distributions.map((view) => faultCards.get(view.id).form);
  if (forms.some((form, i) => container.children[i] !== form) || container.children.length !== forms.length) container.replaceChildren(...forms);
}

// ---------- start ----------

function start() {
  if (!hasCharts()) setConnection('Chart.js did not load (/vendor/chart.umd.js); showing text only', true);
  document.getElementById('qoe-minutes').addEventListener('change', () => void pollQoe());
  document.getElementById('qoe-country').addEventListener('change', () => state.qoe && renderQoe());
  everySoOften(pollRouting, POLL_MS);
  everySoOften(pollAssets, POLL_MS);
  everySoOften(pollQoe, QOE_POLL_MS);
  everySoOften(pollFaults, FAULTS_POLL_MS);
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
