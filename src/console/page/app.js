// The kts console's page: hash routes (#/, #/topics, #/topic/<name>, #/groups, #/group/<id>) drawn
// from the JSON API of console-server.ts. Plain DOM, no framework.
'use strict';

const view = document.getElementById('view');
const statusLine = document.getElementById('status');
/** Timers of the view on screen (the live lag chart), stopped when the route changes. */
let timers = [];

const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const num = (n) => (n === null || n === undefined || n < 0 ? '–' : Number(n).toLocaleString('en-US'));
const enc = encodeURIComponent;

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
  if (!res.ok) throw Object.assign(new Error(data.error || `HTTP ${res.status}`), { status: res.status });
  statusLine.textContent = 'connected';
  statusLine.className = 'status';
  return data;
}
const get = (path) => call('GET', path);

function show(html) {
  view.innerHTML = html;
}

function errorBox(err) {
  // 400: the request was wrong (no such topic, a refused reset); the cluster itself answered.
  if (err.status !== 400) {
    statusLine.textContent = 'cluster unreachable';
    statusLine.className = 'status bad';
  }
  return `<div class="error" role="alert">${esc(err.message || err)}</div>`;
}

/** Asks the user to type `expected` before a destructive action. */
function confirmTyped(message, expected) {
  const dialog = document.getElementById('confirm');
  const input = document.getElementById('confirm-input');
  const ok = document.getElementById('confirm-ok');
  document.getElementById('confirm-message').textContent = message;
  document.getElementById('confirm-expected').textContent = expected;
  input.value = '';
  ok.disabled = true;
  input.oninput = () => (ok.disabled = input.value !== expected);
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue === 'ok' && input.value === expected);
    dialog.showModal();
    input.focus();
  });
}

// ---- overview ----
async function overview() {
  const c = await get('/api/cluster');
  const card = (label, value, cls = '', id = '') => `<div class="card"${id ? ` id="${id}"` : ''}><div class="label">${label}</div><div class="value ${cls}">${value}</div></div>`;
  show(`
    <h1>Cluster</h1>
    <div class="cards" id="overview">
      ${card('Cluster id', `<span style="font-size:13px">${esc(c.clusterId ?? '–')}</span>`)}
      ${card('Brokers', num(c.brokers.length), '', 'overview-brokers')}
      ${card('Controller', c.controllerId >= 0 ? c.controllerId : '–')}
      ${card('Topics', num(c.topics), '', 'overview-topics')}
      ${card('Partitions', num(c.partitions), '', 'overview-partitions')}
      ${card('Under-replicated', num(c.underReplicated), c.underReplicated ? 'warn' : 'good', 'overview-under-replicated')}
      ${card('Offline', num(c.offline), c.offline ? 'bad' : 'good', 'overview-offline')}
      ${card('Consumer groups', num(c.groups), '', 'overview-groups')}
    </div>
    <h2>Brokers</h2>
    <table id="brokers"><thead><tr><th>Id</th><th>Host</th><th>Port</th><th>Rack</th><th></th></tr></thead><tbody>
      ${c.brokers.map((b) => `<tr><td>${b.nodeId}</td><td>${esc(b.host)}</td><td>${b.port}</td><td>${esc(b.rack ?? '')}</td><td>${b.nodeId === c.controllerId ? 'controller' : ''}</td></tr>`).join('')}
    </tbody></table>`);
}

// ---- topics ----
async function topics() {
  const list = await get('/api/topics');
  show(`
    <div class="toolbar"><h1>Topics</h1></div>
    <form class="inline" id="create-topic-form">
      <label>Name <input name="name" id="create-topic-name" required></label>
      <label>Partitions <input name="partitions" type="number" min="1" placeholder="default" style="width:100px"></label>
      <label>Replication factor <input name="replicationFactor" type="number" min="1" placeholder="default" style="width:120px"></label>
      <button id="create-topic">Create topic</button>
    </form>
    <div id="create-topic-result"></div>
    <table id="topics"><thead><tr><th>Topic</th><th class="num">Partitions</th><th class="num">Replicas</th><th class="num">Records</th><th class="num">Under-replicated</th></tr></thead><tbody>
      ${list
        .map(
          (t) => `<tr data-topic="${esc(t.name)}"><td><a href="#/topic/${enc(t.name)}">${esc(t.name)}</a>${t.internal ? ' <span class="muted">internal</span>' : ''}</td>
          <td class="num">${t.partitions}</td><td class="num">${t.replicationFactor}</td><td class="num">${num(t.records)}</td>
          <td class="num ${t.underReplicated || t.offline ? 'warn' : ''}">${t.underReplicated}${t.offline ? ` <span class="bad">(${t.offline} offline)</span>` : ''}</td></tr>`,
        )
        .join('')}
    </tbody></table>`);
  document.getElementById('create-topic-form').onsubmit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const out = document.getElementById('create-topic-result');
    try {
      const created = await call('POST', '/api/topics', Object.fromEntries(form));
      location.hash = `#/topic/${enc(created.name)}`;
    } catch (err) {
      out.innerHTML = errorBox(err);
    }
  };
}

function prettyValue(value) {
  if (value === null) return '<span class="muted">null</span>';
  const trimmed = value.trim();
  if ((trimmed.startsWith('{') || trimmed.startsWith('[')) && trimmed.length < 1_000_000) {
    try {
      return `<pre class="json">${esc(JSON.stringify(JSON.parse(trimmed), null, 2))}</pre>`;
    } catch {}
  }
  return `<pre>${esc(value)}</pre>`;
}

function recordRows(records) {
  if (records.length === 0) return '<tr><td colspan="5" class="muted">No records</td></tr>';
  return records
    .map(
      (r) => `<tr class="record" data-partition="${r.partition}" data-offset="${r.offset}">
        <td class="num">${r.partition}</td><td class="num">${r.offset}</td>
        <td>${esc(new Date(r.timestamp).toISOString())}</td>
        <td><pre>${r.key === null ? '<span class="muted">null</span>' : esc(r.key)}</pre></td>
        <td>${prettyValue(r.value)}${r.headers.length ? `<div class="headers">${r.headers.map((h) => `${esc(h.key)}=${esc(h.value ?? 'null')}`).join(', ')}</div>` : ''}</td></tr>`,
    )
    .join('');
}

async function topic(name) {
  const t = await get(`/api/topics/${enc(name)}`);
  const partitionOptions = t.partitions.map((p) => `<option value="${p.partition}">${p.partition}</option>`).join('');
  show(`
    <div class="toolbar"><h1>Topic ${esc(t.name)}</h1><button class="danger" id="delete-topic">Delete topic</button></div>
    <div id="topic-result"></div>
    <h2>Partitions</h2>
    <table id="partitions"><thead><tr><th class="num">Partition</th><th class="num">Leader</th><th>Replicas</th><th>In sync</th><th class="num">Start</th><th class="num">End</th><th class="num">Records</th></tr></thead><tbody>
      ${t.partitions
        .map(
          (p) => `<tr><td class="num">${p.partition}</td><td class="num ${p.leader < 0 ? 'bad' : ''}">${p.leader < 0 ? 'offline' : p.leader}</td>
          <td>${p.replicas.join(', ')}</td><td class="${p.isr.length < p.replicas.length ? 'warn' : ''}">${p.isr.join(', ')}</td>
          <td class="num">${num(p.start)}</td><td class="num">${num(p.end)}</td><td class="num">${num(p.end - p.start)}</td></tr>`,
        )
        .join('')}
    </tbody></table>
    <details id="configs"><summary>Configs (${t.configs.filter((c) => !c.isDefault).length} set, ${t.configs.length} in all)</summary>
      <table><thead><tr><th>Name</th><th>Value</th><th>Source</th></tr></thead><tbody>
      ${t.configs.map((c) => `<tr class="${c.isDefault ? 'muted' : ''}"><td>${esc(c.name)}</td><td>${esc(c.value ?? '')}</td><td>${esc(c.source)}</td></tr>`).join('')}
      </tbody></table></details>
    <h2>Messages</h2>
    <form class="inline" id="browse-form">
      <label>Partition <select name="partition" id="browse-partition"><option value="">all</option>${partitionOptions}</select></label>
      <label>From offset <input name="offset" id="browse-offset" type="number" min="0" style="width:110px" placeholder="newest"></label>
      <label>Or from time <input name="time" id="browse-time" type="datetime-local" step="1"></label>
      <label>Search <input name="search" id="browse-search" placeholder="key, value or header"></label>
      <label>Limit <input name="limit" id="browse-limit" type="number" min="1" max="500" value="50" style="width:80px"></label>
      <button id="browse">Browse</button>
    </form>
    <div id="browse-summary" class="muted"></div>
    <table id="messages"><thead><tr><th class="num">Partition</th><th class="num">Offset</th><th>Time</th><th>Key</th><th>Value</th></tr></thead><tbody></tbody></table>
    <h2>Produce a message</h2>
    <form id="produce-form">
      <div class="inline" style="display:flex;gap:8px;margin:8px 0">
        <label>Partition <select name="partition" id="produce-partition"><option value="">by key</option>${partitionOptions}</select></label>
        <label>Key <input name="key" id="produce-key"></label>
      </div>
      <label class="muted">Value<textarea name="value" id="produce-value"></textarea></label>
      <label class="muted">Headers, one <code>key=value</code> per line<textarea name="headers" id="produce-headers" style="min-height:40px"></textarea></label>
      <button id="produce">Produce</button>
    </form>
    <div id="produce-result"></div>`);

  const browseForm = document.getElementById('browse-form');
  const runBrowse = async () => {
    const form = new FormData(browseForm);
    const params = new URLSearchParams();
    if (form.get('partition') !== '') params.set('partition', form.get('partition'));
    if (form.get('offset') !== '') params.set('offset', form.get('offset'));
    else if (form.get('time')) params.set('timestamp', String(new Date(form.get('time')).getTime()));
    if (form.get('search')) params.set('search', form.get('search'));
    params.set('limit', form.get('limit') || '50');
    const body = document.querySelector('#messages tbody');
    const summary = document.getElementById('browse-summary');
    try {
      const r = await get(`/api/topics/${enc(name)}/messages?${params}`);
      body.innerHTML = recordRows(r.records);
      summary.textContent = `${r.records.length} record(s) shown, ${r.scanned} read` + (form.get('search') ? ` while searching for “${form.get('search')}”` : '');
    } catch (err) {
      summary.innerHTML = errorBox(err);
    }
  };
  browseForm.onsubmit = (e) => {
    e.preventDefault();
    runBrowse();
  };
  runBrowse();

  document.getElementById('produce-form').onsubmit = async (e) => {
    e.preventDefault();
    const form = new FormData(e.target);
    const headers = String(form.get('headers') || '')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => {
        const i = l.indexOf('=');
        return i < 0 ? { key: l.trim(), value: null } : { key: l.slice(0, i).trim(), value: l.slice(i + 1) };
      });
    const out = document.getElementById('produce-result');
    try {
      const r = await call('POST', `/api/topics/${enc(name)}/messages`, { partition: form.get('partition'), key: form.get('key'), value: form.get('value'), headers });
      out.innerHTML = `<div class="notice" id="produced">Produced to partition ${r.partition} at offset ${r.offset}. <a href="#" id="show-produced">Show it</a></div>`;
      document.getElementById('show-produced').onclick = (ev) => {
        ev.preventDefault();
        document.getElementById('browse-partition').value = String(r.partition);
        document.getElementById('browse-offset').value = String(r.offset);
        runBrowse();
      };
    } catch (err) {
      out.innerHTML = errorBox(err);
    }
  };

  document.getElementById('delete-topic').onclick = async () => {
    if (!(await confirmTyped(`Delete topic ${name} and all its records? This cannot be undone.`, name))) return;
    try {
      await call('DELETE', `/api/topics/${enc(name)}`, { confirm: name });
      location.hash = '#/topics';
    } catch (err) {
      document.getElementById('topic-result').innerHTML = errorBox(err);
    }
  };
}

// ---- consumer groups ----
async function groups() {
  const list = await get('/api/groups');
  show(`
    <h1>Consumer groups</h1>
    <table id="groups"><thead><tr><th>Group</th><th>Type</th><th>State</th><th class="num">Members</th><th>Topics</th><th class="num">Lag</th></tr></thead><tbody>
      ${list.length === 0 ? '<tr><td colspan="6" class="muted">No groups</td></tr>' : ''}
      ${list
        .map(
          (g) => `<tr data-group="${esc(g.groupId)}"><td><a href="#/group/${enc(g.groupId)}">${esc(g.groupId)}</a></td><td>${esc(g.type)}</td><td>${esc(g.state)}</td>
          <td class="num">${g.members}</td><td>${g.topics.map(esc).join(', ')}</td><td class="num ${g.lag > 0 ? 'warn' : 'good'}">${num(g.lag)}</td></tr>`,
        )
        .join('')}
    </tbody></table>`);
}

function lagRows(partitions) {
  if (partitions.length === 0) return '<tr><td colspan="5" class="muted">No committed offsets</td></tr>';
  return partitions
    .map((p) => `<tr><td>${esc(p.topic)}</td><td class="num">${p.partition}</td><td class="num">${num(p.committed)}</td><td class="num">${num(p.end)}</td><td class="num ${p.lag > 0 ? 'warn' : 'good'}">${num(p.lag)}</td></tr>`)
    .join('');
}

function memberRows(members) {
  if (members.length === 0) return '<tr><td colspan="3" class="muted">No active members</td></tr>';
  return members.map((m) => `<tr><td>${esc(m.memberId)}</td><td>${esc(m.clientId)}</td><td>${esc(m.host)}</td></tr>`).join('');
}

async function group(id) {
  const g = await get(`/api/groups/${enc(id)}`);
  const topicNames = [...new Set(g.partitions.map((p) => p.topic))];
  show(`
    <h1>Group ${esc(id)}</h1>
    <div class="cards">
      <div class="card"><div class="label">State</div><div class="value" id="group-state">${esc(g.state)}</div></div>
      <div class="card"><div class="label">Members</div><div class="value" id="group-members">${g.members.length}</div></div>
      <div class="card"><div class="label">Total lag</div><div class="value" id="group-lag">${num(g.lag)}</div></div>
    </div>
    <h2>Lag over time</h2>
    <canvas id="lag-chart"></canvas>
    <h2>Partitions</h2>
    <table id="group-partitions"><thead><tr><th>Topic</th><th class="num">Partition</th><th class="num">Committed</th><th class="num">End</th><th class="num">Lag</th></tr></thead><tbody>${lagRows(g.partitions)}</tbody></table>
    <h2>Members</h2>
    <table id="group-member-list"><thead><tr><th>Member</th><th>Client</th><th>Host</th></tr></thead><tbody>${memberRows(g.members)}</tbody></table>
    <h2>Reset offsets</h2>
    <p class="muted">The group must have no active members (stop its consumers first).</p>
    <form class="inline" id="reset-form">
      <label>Topic <select name="topic" id="reset-topic">${topicNames.map((t) => `<option>${esc(t)}</option>`).join('')}</select></label>
      <label>To <select name="to" id="reset-to"><option value="earliest">earliest</option><option value="latest">latest</option><option value="offset">offset</option><option value="timestamp">time (ms)</option></select></label>
      <label>Offset or time <input name="value" id="reset-value" style="width:140px"></label>
      <button class="danger" id="reset">Reset offsets</button>
    </form>
    <div id="reset-result"></div>`);
  const chart = (window.lagChart = new window.LagChart(document.getElementById('lag-chart')));
  chart.add(g.at, g.lag);
  const tick = async () => {
    try {
      const now = await get(`/api/groups/${enc(id)}`);
      chart.add(now.at, now.lag);
      document.getElementById('group-lag').textContent = num(now.lag);
      document.getElementById('group-state').textContent = now.state;
      document.getElementById('group-members').textContent = String(now.members.length);
      document.querySelector('#group-partitions tbody').innerHTML = lagRows(now.partitions);
      document.querySelector('#group-member-list tbody').innerHTML = memberRows(now.members);
    } catch (err) {
      statusLine.textContent = err.message;
      statusLine.className = 'status bad';
    }
  };
  timers.push(setInterval(tick, 1000));
  document.getElementById('reset-form').onsubmit = async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(new FormData(e.target));
    if (!(await confirmTyped(`Reset the offsets of group ${id} on ${body.topic} to ${body.to}${body.value ? ` ${body.value}` : ''}?`, id))) return;
    const out = document.getElementById('reset-result');
    try {
      const r = await call('POST', `/api/groups/${enc(id)}/reset`, { ...body, confirm: id });
      out.innerHTML = `<div class="notice">Reset ${r.offsets.length} partition(s): ${r.offsets.map((o) => `${esc(o.topic)}-${o.partition} → ${o.offset}`).join(', ')}</div>`;
      tick();
    } catch (err) {
      out.innerHTML = errorBox(err);
    }
  };
}

// ---- routing ----
async function route() {
  for (const t of timers) clearInterval(t);
  timers = [];
  const [, page, arg] = (location.hash.replace(/^#/, '') || '/').split('/').map((s, i) => (i === 2 ? decodeURIComponent(s) : s));
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === (page || 'overview') || a.dataset.nav + 's' === page);
  try {
    if (!page) await overview();
    else if (page === 'topics') await topics();
    else if (page === 'topic' && arg) await topic(arg);
    else if (page === 'groups') await groups();
    else if (page === 'group' && arg) await group(arg);
    else show('<p>Not found. <a href="#/">Overview</a></p>');
  } catch (err) {
    show(errorBox(err));
  }
}

window.addEventListener('hashchange', route);
route();
