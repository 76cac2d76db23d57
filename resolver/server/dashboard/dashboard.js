// resolverd's dashboard: fetches the JSON API of the daemon's HTTP listener every few
// seconds and draws it with the DOM and <canvas>; no library, nothing from elsewhere.
//
//   /api/stats   counters (resolver/server/metrics.h to_json)
//   /api/series  queries per second and cache hit ratio, the last hour
//   /api/top     top names and clients;  /api/recent  the recent-queries log
//   /api/explain the chain of trust of one name (resolver/server/explain_trace.h)
//
// Opening /?explain=NAME&type=TYPE runs an explain at once (the system test uses it).
'use strict';

const REFRESH_MS = 3000;
const $ = (id) => document.getElementById(id);

// el('div', {class: 'x', data: {zone: 'a.'}, text: 'hi'}, child, ...)
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  const a = attributes || {};
  if (a.class) node.className = a.class;
  if (a.text !== undefined) node.textContent = String(a.text);
  if (a.title) node.title = a.title;
  if (a.data) for (const [k, v] of Object.entries(a.data)) node.dataset[k] = String(v);
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

function formatCount(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  if (n >= 1e9) return (n / 1e9).toFixed(2) + ' G';
  if (n >= 1e6) return (n / 1e6).toFixed(2) + ' M';
  if (n >= 1e4) return (n / 1e3).toFixed(1) + ' k';
  return String(Math.round(n * 100) / 100);
}

function formatBytes(n) {
  if (n >= 1 << 20) return (n / (1 << 20)).toFixed(1) + ' MiB';
  if (n >= 1 << 10) return (n / (1 << 10)).toFixed(1) + ' KiB';
  return n + ' B';
}

function formatDuration(seconds) {
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600), m = Math.floor(seconds % 3600 / 60);
  return (d ? d + 'd ' : '') + (d || h ? h + 'h ' : '') + m + 'm ' + Math.floor(seconds % 60) + 's';
}

function sum(mapping) {
  return Object.values(mapping || {}).reduce((a, b) => a + b, 0);
}

async function getJson(url) {
  const response = await fetch(url, {cache: 'no-store'});
  let body = null;
  try { body = await response.json(); } catch (e) { body = null; }
  if (!response.ok && !body) throw new Error(url + ': HTTP ' + response.status);
  return {status: response.status, body};
}

function setValue(id, value, text) {
  const node = $(id);
  node.dataset.value = value === null ? '' : String(value);
  node.textContent = text;
}

// --- bars ------------------------------------------------------------------

// rows: [[key, value, label?]]; zero rows are left out unless keepZero.
function drawBars(container, rows, keepZero) {
  const shown = rows.filter(([, v]) => keepZero || v > 0);
  const max = Math.max(1, ...shown.map(([, v]) => v));
  container.replaceChildren();
  if (!shown.length) {
    container.append(el('div', {class: 'empty', text: 'nothing yet'}));
    return;
  }
  for (const [key, value, label] of shown) {
    const fill = el('div', {class: 'bar-fill'});
    fill.style.width = (100 * value / max).toFixed(1) + '%';
    container.append(el('div', {class: 'bar key-' + key, data: {key, value}},
      el('span', {class: 'bar-label', text: label || key}),
      el('div', {class: 'bar-track'}, fill),
      el('span', {class: 'num', text: formatCount(value)})));
  }
}

// --- line charts on <canvas> -------------------------------------------------

function drawLineChart(canvas, points, options) {
  const ratio = window.devicePixelRatio || 1;
  const width = canvas.clientWidth || canvas.width, height = canvas.clientHeight || canvas.height;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  const g = canvas.getContext('2d');
  g.setTransform(ratio, 0, 0, ratio, 0, 0);
  g.clearRect(0, 0, width, height);
  canvas.dataset.points = String(points.length);
  const left = 48, right = 10, top = 10, bottom = 22;
  const plotW = width - left - right, plotH = height - top - bottom;
  const now = Date.now() / 1000, start = now - 3600;
  const values = points.map((p) => p.value).filter((v) => v !== null);
  const max = options.max !== undefined ? options.max : Math.max(1, ...values) * 1.1;
  const x = (t) => left + plotW * Math.min(1, Math.max(0, (t - start) / 3600));
  const y = (v) => top + plotH * (1 - v / max);

  g.font = '11px system-ui, sans-serif';
  g.strokeStyle = '#dde2e8';
  g.fillStyle = '#66707c';
  g.lineWidth = 1;
  for (let i = 0; i <= 4; ++i) {
    const v = max * i / 4, py = y(v);
    g.beginPath(); g.moveTo(left, py); g.lineTo(left + plotW, py); g.stroke();
    g.textAlign = 'right'; g.textBaseline = 'middle';
    g.fillText(options.format(v), left - 6, py);
  }
  g.textAlign = 'center'; g.textBaseline = 'top';
  for (let minutes = 60; minutes >= 0; minutes -= 15)
    g.fillText(minutes ? '-' + minutes + ' min' : 'now', x(now - minutes * 60), top + plotH + 6);

  g.strokeStyle = options.color;
  g.lineWidth = 2;
  g.beginPath();
  let drawing = false;
  for (const p of points) {
    if (p.value === null) { drawing = false; continue; }
    if (drawing) g.lineTo(x(p.time), y(p.value)); else g.moveTo(x(p.time), y(p.value));
    drawing = true;
  }
  g.stroke();
  g.fillStyle = options.color;
  for (const p of points) if (p.value !== null) g.fillRect(x(p.time) - 1.5, y(p.value) - 1.5, 3, 3);
}

// --- the refresh ---------------------------------------------------------------

function renderStats(stats) {
  const answers = sum(stats.answers_total);
  const hits = stats.cache_hits_total || 0;
  const version = Object.keys(stats.build_info || {})[0] || '';
  $('version').textContent = version ? 'version ' + version : '';
  $('uptime').textContent = 'up ' + formatDuration(stats.uptime_seconds || 0);
  setValue('answers-total', answers, formatCount(answers));
  setValue('cache-hits-total', hits, formatCount(hits));
  setValue('cache-misses-total', stats.cache_misses_total || 0, formatCount(stats.cache_misses_total || 0));
  setValue('upstream-total', sum(stats.upstream_queries_total), formatCount(sum(stats.upstream_queries_total)));
  const ratio = answers ? hits / answers : null;
  setValue('hit-ratio', ratio, ratio === null ? '–' : (100 * ratio).toFixed(1) + ' %');
  const latency = stats.answer_latency_seconds || {};
  const mean = latency.count ? 1000 * latency.sum / latency.count : null;
  setValue('latency-mean', mean, mean === null ? '–' : mean.toFixed(2) + ' ms');

  drawBars($('rcode-bars'), Object.entries(stats.answers_by_rcode_total || {}));
  drawBars($('security-bars'), ['secure', 'insecure', 'bogus', 'indeterminate', 'unchecked']
    .map((k) => [k, (stats.answers_by_security_total || {})[k] || 0]));
  drawBars($('ede-bars'), Object.entries(stats.answers_by_ede_total || {}).map(([key, value]) => {
    const [code, name] = key.split(',');
    return ['ede-' + code, value, code + ' ' + (name || '')];
  }));
  // Buckets are cumulative: each bar is what fell between one bound and the last.
  // JSON objects keep no order: sort by bound, +Inf last.
  const bound = (le) => (le === '+Inf' ? Infinity : Number(le));
  const buckets = Object.entries(latency.buckets || {}).sort((a, b) => bound(a[0]) - bound(b[0]));
  let previous = 0, previousBound = '0';
  drawBars($('latency-bars'), buckets.map(([le, cumulative]) => {
    const label = le === '+Inf' ? '> ' + (1000 * Number(previousBound)) + ' ms' : '≤ ' + (1000 * Number(le)) + ' ms';
    const row = ['le-' + le.replace(/[^0-9a-zA-Z]/g, '_'), cumulative - previous, label];
    previous = cumulative;
    previousBound = le;
    return row;
  }));

  const body = $('cache-table').tBodies[0];
  body.replaceChildren();
  for (const [cache, bytes] of Object.entries(stats.cache_bytes || {})) {
    body.append(el('tr', {data: {cache, bytes}},
      el('td', {text: cache}),
      el('td', {class: 'num', text: formatBytes(bytes)}),
      el('td', {class: 'num', text: formatCount((stats.cache_entries || {})[cache] || 0)})));
  }
}

function renderSeries(series) {
  const points = series.points || [];
  const last = points.length ? points[points.length - 1] : null;
  setValue('qps-now', last ? last.qps : 0, last ? formatCount(last.qps) : '–');
  drawLineChart($('qps-chart'), points.map((p) => ({time: p.time, value: p.qps})),
    {color: '#2d6cdf', format: formatCount});
  drawLineChart($('hit-chart'), points.map((p) => ({time: p.time, value: p.hit_ratio})),
    {color: '#1f8a4c', max: 1, format: (v) => Math.round(100 * v) + '%'});
}

function renderTop(top) {
  $('top-note').textContent = 'Counted over ' + formatCount(top.counted) + ' answers, ' + top.counters +
    ' counters per thread (Space-Saving: a count may include up to "±" of other names).';
  const names = $('top-names').tBodies[0];
  names.replaceChildren();
  for (const item of top.names) {
    names.append(el('tr', {class: 'top-name', data: {name: item.name, count: item.count}},
      el('td', {class: 'name', text: item.name}),
      el('td', {class: 'num', text: formatCount(item.count) + (item.error ? ' ±' + formatCount(item.error) : '')})));
  }
  const clients = $('top-clients').tBodies[0];
  clients.replaceChildren();
  for (const item of top.clients) {
    clients.append(el('tr', {class: 'top-client', data: {address: item.address, count: item.count}},
      el('td', {text: item.address}),
      el('td', {class: 'num', text: formatCount(item.count) + (item.error ? ' ±' + formatCount(item.error) : '')})));
  }
}

function renderRecent(recent) {
  $('recent-note').textContent = recent.capacity
    ? 'The last ' + recent.queries.length + ' answers (the log keeps ' + recent.capacity + ').'
    : 'The log is off (http.recent-queries: 0).';
  const body = $('recent').tBodies[0];
  body.replaceChildren();
  for (const q of recent.queries) {
    const time = new Date(q.time * 1000);
    body.append(el('tr', {class: 'recent-query', data: {name: q.name, type: q.type, rcode: q.rcode,
      security: q.security || '', cacheHit: q.cache_hit, client: q.client}},
      el('td', {text: time.toLocaleTimeString()}),
      el('td', {text: q.client}),
      el('td', {class: 'name', text: q.name}),
      el('td', {text: q.type}),
      el('td', {text: q.rcode}),
      el('td', {class: q.security ? 'sec-' + q.security : '', text: q.security || '–'}),
      el('td', {class: 'num', text: q.latency_ms.toFixed(1)}),
      el('td', {text: q.transport}),
      el('td', {text: q.cache_hit ? 'hit' : ''})));
  }
}

let refreshes = 0;
async function refresh() {
  const state = $('refresh-state');
  try {
    const [stats, series, top, recent] = await Promise.all(
      ['/api/stats', '/api/series', '/api/top?n=15', '/api/recent?limit=200'].map(getJson));
    renderStats(stats.body);
    renderSeries(series.body);
    renderTop(top.body);
    renderRecent(recent.body);
    document.body.dataset.refreshes = String(++refreshes);
    state.dataset.state = 'ok';
    state.textContent = 'updated ' + new Date().toLocaleTimeString();
  } catch (error) {
    state.dataset.state = 'error';
    state.textContent = 'update failed: ' + error.message;
  }
}

// --- explain: the chain of trust ---------------------------------------------

function recordGroup(title, kind, items, describe) {
  const group = el('div', {class: 'rec-group ' + kind}, el('h4', {text: title}));
  if (!items.length) group.append(el('div', {class: 'rec-none', text: 'none'}));
  for (const item of items) group.append(describe(item));
  return group;
}

function describeKey(k) {
  if (k.text) return el('div', {class: 'rec', text: k.text});
  const label = k.role !== undefined
    ? 'DNSKEY ' + k.key_tag + ' ' + k.role + ' ' + k.algorithm_name + (k.bits ? ' (' + k.bits + ' bits)' : '')
    : 'DS ' + k.key_tag + ' ' + k.algorithm_name + ' ' + k.digest_name;
  return el('div', {class: 'rec', data: {keyTag: k.key_tag}, text: label});
}

function describeSignature(s) {
  if (s.text) return el('div', {class: 'rec', text: s.text});
  const timing = (s.timing || 'valid').replace(/ /g, '-');
  return el('div', {class: 'rec timing-' + timing, data: {keyTag: s.key_tag, timing},
    title: 'inception ' + s.inception + ', expiration ' + s.expiration,
    text: 'RRSIG ' + s.covers + ' by ' + s.key_tag + ' (' + s.signer + '), ' + s.timing + ' until ' + s.expiration});
}

function drawCut(cut) {
  const status = cut.status || 'unvalidated';
  const head = el('div', {class: 'cut-head'},
    el('span', {class: 'cut-zone', text: cut.zone}),
    el('span', {class: 'cut-status', text: status}),
    cut.trust_anchor ? el('span', {class: 'cut-badge', text: 'trust anchor'}) : null,
    cut.from_cache ? el('span', {class: 'cut-badge', text: 'from cache'}) : null);
  const box = el('div', {class: 'cut status-' + status, data: {zone: cut.zone, status, onPath: !!cut.on_path}}, head);
  if (cut.reason) box.append(el('div', {class: 'cut-reason', text: cut.reason}));
  if (cut.ede) box.append(el('div', {class: 'cut-ede', data: {code: cut.ede.code},
    text: 'EDE ' + cut.ede.code + ' (' + cut.ede.name + ')'}));
  const dsTitle = cut.trust_anchor ? 'Trust anchor' : 'DS (from the parent)';
  const ds = recordGroup(dsTitle, 'ds-list', cut.ds || [], describeKey);
  for (const sig of cut.ds_signatures || []) ds.append(describeSignature(sig));
  for (const denial of cut.denial || []) ds.append(el('div', {class: 'rec denial', text: 'no DS: ' + denial}));
  box.append(el('div', {class: 'cut-records'},
    ds, el('span', {class: 'arrow', text: '→'}),
    recordGroup('DNSKEY', 'dnskey-list', cut.dnskeys || [], describeKey), el('span', {class: 'arrow', text: '→'}),
    recordGroup('RRSIG over DNSKEY', 'rrsig-list', cut.dnskey_signatures || [], describeSignature)));
  const servers = (cut.servers || []).map((s) => s.address + ' (' + s.replies + '/' + s.queries + ' replies' +
    (s.rtt_ms && s.rtt_ms.length ? ', ' + s.rtt_ms.join('/') + ' ms' : '') + ')');
  if (servers.length) box.append(el('div', {class: 'servers', text: 'servers: ' + servers.join(', ')}));
  return box;
}

function describeStep(step) {
  const indent = '  '.repeat(step.depth || 0);
  let text, kind = step.kind;
  if (step.kind === 'query') {
    text = indent + (step.t_ms || 0).toFixed(0) + ' ms  ' + step.question + ' → ' + step.server + ' (' + step.zone +
      ', ' + step.transport + ')';
    if (step.rcode) text += ': ' + step.rcode + ' [' + (step.flags || '') + '] ' + (step.rtt_ms || 0) + ' ms';
    if (step.verdict) text += ', ' + step.verdict;
    if (step.failure) { text += ': ' + step.failure; kind = 'failure'; }
  } else if (step.kind === 'subquery') {
    text = indent + 'sub-question ' + step.question + (step.why ? ' (' + step.why + ')' : '');
  } else if (step.kind === 'subquery-done') {
    text = indent + 'done ' + step.question + ': ' + step.rcode + ', ' + step.security +
      (step.ede ? ', EDE ' + step.ede.code + ' ' + step.ede.text : '');
  } else {
    text = indent + step.text;
  }
  return el('li', {class: 'step step-' + kind, text});
}

function drawExplain(report) {
  const verdict = report.verdict || {};
  const security = verdict.security || 'unchecked';
  $('explain-verdict').replaceChildren(el('div', {class: 'verdict sec-' + security, data: {rcode: verdict.rcode, security},
    text: report.question.name + ' ' + report.question.type + ': ' + verdict.rcode + ', ' + security +
      (verdict.ede ? ' — EDE ' + verdict.ede.code + ' (' + verdict.ede.name + '): ' + verdict.ede.text : '') +
      (verdict.answer && verdict.answer.length ? ' — ' + verdict.answer.join('; ') : '')}));
  const main = $('chain'), secondary = $('chain-secondary');
  main.replaceChildren();
  secondary.replaceChildren();
  for (const cut of report.chain || []) {
    const target = cut.on_path ? main : secondary;
    // DS → DNSKEY links the parent's box to the child's.
    if (target.children.length) target.append(el('div', {class: 'link', text: '↓'}));
    target.append(drawCut(cut));
  }
  $('chain-title').classList.toggle('hidden', !main.children.length);
  $('secondary-title').classList.toggle('hidden', !secondary.children.length);

  const rrsets = $('explain-rrsets');
  rrsets.replaceChildren();
  for (const set of report.rrsets || []) {
    const node = el('div', {class: 'rrset sec-' + set.security, data: {owner: set.owner, type: set.type, security: set.security}},
      el('div', {text: set.owner + ' ' + set.type + ' (zone ' + set.zone + '): ' + set.security +
        (set.reason ? ' — ' + set.reason : '')}));
    for (const sig of set.signatures || []) node.append(describeSignature(sig));
    rrsets.append(node);
  }
  $('rrsets-title').classList.toggle('hidden', !rrsets.children.length);

  const steps = $('explain-steps');
  steps.replaceChildren(...(report.steps || []).map(describeStep));
  $('steps-title').classList.toggle('hidden', !steps.children.length);
  $('explain-budgets').textContent = report.budgets || '';
}

async function explain(name, type) {
  const result = $('explain-result'), message = $('explain-message');
  result.dataset.state = 'loading';
  message.dataset.kind = 'info';
  message.textContent = 'resolving ' + name + ' ' + type + '…';
  try {
    const {status, body} = await getJson('/api/explain?name=' + encodeURIComponent(name) +
      '&type=' + encodeURIComponent(type));
    if (!body || !body.ok) throw new Error((body && body.error) || 'HTTP ' + status);
    drawExplain(body.data);
    message.textContent = '';
    result.dataset.state = 'done';
    result.dataset.name = name;
  } catch (error) {
    message.dataset.kind = 'error';
    message.textContent = 'explain failed: ' + error.message;
    result.dataset.state = 'error';
  }
}

function start() {
  $('explain-form').addEventListener('submit', (event) => {
    event.preventDefault();
    explain($('explain-name').value.trim(), $('explain-type').value.trim() || 'A');
  });
  const params = new URLSearchParams(location.search);
  if (params.get('explain')) {
    // The page was opened for this explain: show it first.
    const panel = $('explain-panel');
    panel.parentNode.prepend(panel);
    $('explain-name').value = params.get('explain');
    $('explain-type').value = params.get('type') || 'A';
    explain($('explain-name').value, $('explain-type').value);
  }
  refresh();
  setInterval(refresh, REFRESH_MS);
}

document.addEventListener('DOMContentLoaded', start);
