'use strict';
(() => {
  const API = 'api/v1';
  const STATUSES = ['nonconformity', 'covered', 'suggested', 'weak', 'stale', 'missing', 'notApplicable'];
  const HELP = {
    nonconformity: 'an open finding: a passage states the control is absent or failed, nothing later corrects it',
    covered: 'accepted by a reviewer, or strong support from expected documents',
    suggested: 'strong machine suggestions that need review',
    weak: 'low score or a single passage',
    stale: 'newest evidence older than the review period',
    missing: 'no evidence',
    notApplicable: 'excluded by a reviewer, with a justification (not counted)'
  };
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    Object.assign(e, props || {});
    for (const c of children) e.append(c);
    return e;
  };
  const key = () => sessionStorage.getItem('aims-key') || '';
  let currentControl = null;
  // The key's role (GET /me): controls the role cannot use are not shown (the API refuses them anyway).
  let role = null;
  const RANK = { reader: 1, reviewer: 2, admin: 3 };
  const allows = (needed) => (RANK[role] || 0) >= (RANK[needed] || 0);

  function applyRole() {
    for (const e of document.querySelectorAll('[data-needs-role]')) e.hidden = !allows(e.dataset.needsRole);
    document.body.dataset.role = role || '';
    $('key-state').textContent = role
      ? `${role} key in use (this tab only)${allows('reviewer') ? '' : ': read-only, review and owner controls hidden'}`
      : '';
  }

  function message(text) {
    const m = $('message');
    m.textContent = text || '';
    m.hidden = !text;
  }

  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    opts.headers['X-Api-Key'] = key();
    if (opts.body && typeof opts.body !== 'string') {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(opts.body);
    }
    const res = await fetch(`${API}/${path}`, opts);
    if (!res.ok) {
      let detail = res.statusText;
      try { const p = await res.json(); detail = p.detail || p.title || detail; } catch { /* not JSON */ }
      if (res.status === 401) detail = 'Enter a valid API key above (ask an admin: aims keys create --role reader).';
      if (res.status === 403) detail = 'Your key\'s role does not allow this action (reviewer needed).';
      throw new Error(`${res.status}: ${detail}`);
    }
    return res.status === 204 ? null : res.json();
  }

  function legend() {
    const l = $('legend');
    l.replaceChildren(...STATUSES.map(s => el('span', { title: HELP[s] }, el('span', { className: `swatch ${s}` }), `${s} — ${HELP[s]}`)));
  }

  async function loadHeatmap() {
    const [controls, coverage] = await Promise.all([api('controls?limit=500'), api('coverage')]);
    const o = coverage.overall;
    // The grid shows every catalog entry; the percentages count the mappable ones: grouping clauses (dashed cells,
    // whose evidence is their children's) and entries excluded as not applicable are not counted.
    // Why fewer entries are counted than there are cells, with the numbers of each kind.
    const cells = controls.items.length;
    const grouping = controls.items.filter(c => c.container).length;
    const excluded = controls.items.filter(c => !c.container && c.status === 'notApplicable').length;
    $('overall').textContent = `— ${o.coveredPercent}% covered, ${o.evidencedPercent}% with evidence, of ${o.total} entries counted`;
    $('overall-why').textContent = `${cells} cells, ${o.total} counted: ${grouping} are grouping clauses (dashed) whose requirements are their sub-clauses, so evidence is mapped to the sub-clauses and the grouping clause is not counted on its own` +
      (excluded ? `; ${excluded} excluded as not applicable by a reviewer.` : '.');
    const groups = new Map();
    for (const c of controls.items) {
      if (!groups.has(c.group)) groups.set(c.group, []);
      groups.get(c.group).push(c);
    }
    const rows = [];
    for (const [name, items] of groups) {
      const row = el('div', { className: 'group' }, el('span', { className: 'group-name', textContent: name }));
      for (const c of items) {
        const b = el('button', {
          className: `cell ${c.status}${c.container ? ' container' : ''}`,
          textContent: c.id,
          title: `${c.id} ${c.title}: ${c.status} — ${c.reason}`,
          type: 'button'
        });
        b.dataset.id = c.id;
        b.dataset.status = c.status;
        b.addEventListener('click', () => showControl(c.id));
        row.append(b);
      }
      rows.push(row);
    }
    $('heatmap').replaceChildren(...rows);
  }

  // Accept, reject, or accept with the other polarity: a finding that in fact supports the entry, or the reverse.
  function reviewButtons(mappingId, polarity) {
    const wrap = el('span');
    const flip = polarity === 'finding' ? 'supports' : 'finding';
    const actions = [
      { decision: 'accept', label: 'Accept', done: 'accepted' },
      { decision: 'reject', label: 'Reject', done: 'rejected' },
      { decision: 'accept', polarity: flip, label: flip === 'supports' ? 'Accept as support, not a finding' : 'Accept as a finding', done: `accepted as ${flip === 'supports' ? 'support' : 'a finding'}` }
    ];
    for (const a of actions) {
      const b = el('button', { className: a.polarity ? 'polarity' : a.decision, type: 'button', textContent: a.label });
      b.dataset.mapping = mappingId;
      b.addEventListener('click', async () => {
        try {
          const body = { decision: a.decision, comment: 'dashboard' };
          if (a.polarity) body.polarity = a.polarity;
          await api(`mappings/${encodeURIComponent(mappingId)}/review`, { method: 'POST', body });
          message(`Mapping ${a.done}.`);
          await refresh();
        } catch (e) { message(e.message); }
      });
      wrap.append(' ', b);
    }
    return wrap;
  }

  async function showControl(id) {
    try {
      const d = await api(`controls/${encodeURIComponent(id)}`);
      currentControl = id;
      $('detail').hidden = false;
      $('detail-title').textContent = `${d.control.id} ${d.control.title}`;
      $('detail-status').replaceChildren(el('span', { className: `badge ${d.control.status}`, textContent: d.control.status }), ` ${d.control.reason}`);
      $('detail-status').dataset.status = d.control.status;
      $('detail-owner').textContent = d.control.owner ? `Owner: ${ownerText(d.control)}` : 'No owner.';
      $('owner-name').value = d.control.owner || '';
      $('owner-due').value = d.control.ownerDueDate || '';
      $('detail-summary').textContent = d.summary;
      const items = d.evidence.map(e => el('li', {},
        el('div', { className: 'cite', textContent: e.display },
          e.polarity === 'finding' ? el('span', { className: 'finding', textContent: ' · finding (states the control is absent or failed)' }) : ''),
        el('div', { className: 'meta', textContent: `score ${e.score} · ${e.method} · review: ${e.review} · ${e.rationale}` }),
        el('blockquote', { className: 'passage', textContent: e.text }),
        e.review === 'unreviewed' && allows('reviewer') ? reviewButtons(e.mappingId, e.polarity) : el('span')));
      $('detail-evidence').replaceChildren(...(items.length ? items : [el('li', { textContent: 'No evidence found.' })]));
    } catch (e) { message(e.message); }
  }

  async function loadGaps() {
    const g = await api('gaps?limit=500');
    $('gaps').tBodies[0].replaceChildren(...g.items.map(c => {
      const tr = el('tr', {}, el('td', { textContent: c.id }), el('td', { textContent: c.title }),
        el('td', {}, el('span', { className: `badge ${c.status}`, textContent: c.status })), el('td', { textContent: c.reason }),
        el('td', { className: 'owner', textContent: ownerText(c) }));
      tr.dataset.id = c.id;
      tr.addEventListener('click', () => showControl(c.id));
      return tr;
    }));
  }

  const ownerText = (c) => c.owner ? `${c.owner}${c.ownerDueDate ? `, due ${c.ownerDueDate}` : ''}` : '';

  async function loadTasks() {
    const t = await api('tasks?status=overdue');
    $('task-counts').textContent = `— ${t.overdue} of ${t.open} open tasks overdue`;
    $('tasks').tBodies[0].replaceChildren(...t.items.map(x => {
      const tr = el('tr', {}, el('td', { textContent: x.entryId }), el('td', { textContent: x.title }),
        el('td', {}, el('span', { className: `badge ${x.status}`, textContent: x.status })), el('td', { textContent: x.owner }),
        el('td', { className: 'overdue', textContent: x.dueDate }));
      tr.dataset.id = x.entryId;
      tr.addEventListener('click', () => showControl(x.entryId));
      return tr;
    }));
  }

  // The AI-system inventory: every system the documents describe, with its citations; reviewers confirm, rename,
  // merge (two records of one system), split (documents that describe another system) or reject.
  async function loadAiSystems() {
    const list = await api('ai-systems');
    $('ai-system-count').textContent = `— ${list.count}`;
    const reviewer = allows('reviewer');
    $('ai-systems').tBodies[0].replaceChildren(...list.systems.map(s => {
      const cited = s.documents.slice(0, 3).map(d => el('div', { className: 'cite', textContent: d.citation }));
      if (s.documents.length > 3) cited.push(el('div', { className: 'meta', textContent: `and ${s.documents.length - 3} more` }));
      const actions = el('td', { hidden: !reviewer });
      actions.dataset.needsRole = 'reviewer';
      const name = el('td', { textContent: s.name + (s.unit ? ` (${s.unit})` : '') });
      if (s.confirmed) name.append(el('span', { className: 'badge covered', textContent: 'confirmed' }));
      const tr = el('tr', {}, name, el('td', { textContent: s.purpose || '-' }), el('td', { textContent: s.provider || '-' }),
        el('td', { textContent: s.role || '-' }), el('td', { textContent: s.lifecycle || '-' }), el('td', { textContent: s.riskLevel || '-' }),
        el('td', {}, ...cited), actions);
      tr.dataset.id = s.id;
      const documents = [...new Set(s.documents.map(d => d.name))];
      for (const [action, label] of [['confirm', 'Confirm'], ['rename', 'Rename'], ['merge', 'Merge…'], ['split', 'Split…'], ['reject', 'Reject']]) {
        if ((action === 'merge' && list.systems.length < 2) || (action === 'split' && documents.length < 2)) continue;
        const b = el('button', { type: 'button', textContent: label, className: `ai-${action}` });
        b.addEventListener('click', () => action === 'merge' || action === 'split'
          ? openAiEditor(tr, s, action, list.systems, documents) : editAiSystem(s, action));
        actions.append(b, ' ');
      }
      return tr;
    }));
  }

  // The merge or split form of one system, in a row under it (one open at a time).
  function openAiEditor(tr, system, action, systems, documents) {
    document.querySelectorAll('#ai-systems tr.ai-editor').forEach(r => r.remove());
    const cell = el('td', { colSpan: 8 });
    const row = el('tr', { className: 'ai-editor' }, cell);
    row.dataset.for = system.id;
    const cancel = el('button', { type: 'button', textContent: 'Cancel', className: 'ai-cancel' });
    cancel.addEventListener('click', () => row.remove());
    const label = x => x.name + (x.unit ? ` (${x.unit})` : '');
    if (action === 'merge') {
      const target = el('select', { className: 'ai-merge-target', ariaLabel: `Merge ${system.name} into` },
        ...systems.filter(x => x.id !== system.id).map(x => el('option', { value: x.id, textContent: label(x) })));
      const ok = el('button', { type: 'button', textContent: 'Merge', className: 'ai-merge-ok' });
      ok.addEventListener('click', () => editAiSystem(system, 'merge', { targetId: target.value }));
      cell.append(`Merge ${label(system)} (its names and citations) into `, target, ' ', ok, ' ', cancel);
    } else {
      const docs = documents.map(n => el('label', { className: 'ai-split-doc' }, el('input', { type: 'checkbox', value: n }), ' ', n));
      const name = el('input', { className: 'ai-split-name', placeholder: 'name of the new system', size: 24, maxLength: 200, ariaLabel: 'Name of the new system' });
      const ok = el('button', { type: 'button', textContent: 'Split', className: 'ai-split-ok' });
      ok.addEventListener('click', () => {
        const moved = [...cell.querySelectorAll('.ai-split-doc input:checked')].map(c => c.value);
        if (!name.value.trim() || moved.length === 0 || moved.length === documents.length) {
          message('Name the new system and tick some, not all, of the documents that describe it.');
          return;
        }
        editAiSystem(system, 'split', { name: name.value.trim(), documents: moved });
      });
      cell.append(`Move the citations of these documents of ${label(system)} to a new system: `, ...docs, ' ', name, ' ', ok, ' ', cancel);
    }
    tr.after(row);
  }

  async function editAiSystem(system, action, extra) {
    const body = { action, ...(extra || {}) };
    if (action === 'rename') {
      const name = window.prompt(`New name of ${system.name}`, system.name);
      if (!name || !name.trim()) return;
      body.name = name.trim();
    }
    try {
      await api(`ai-systems/${encodeURIComponent(system.id)}/edits`, { method: 'POST', body });
      message(`${system.name}: ${action} saved.`);
      await loadAiSystems();
    } catch (e) { message(e.message); }
  }

  async function addAiSystem(ev) {
    ev.preventDefault();
    const name = $('ai-system-name').value.trim();
    if (!name) return;
    try {
      await api('ai-systems', { method: 'POST', body: { name, purpose: $('ai-system-purpose').value.trim() || null } });
      $('ai-system-name').value = '';
      $('ai-system-purpose').value = '';
      message(`${name} added to the inventory.`);
      await loadAiSystems();
    } catch (e) { message(e.message); }
  }

  // Another framework's requirements through its crosswalk: each with the status its ISO/IEC 42001 entries give it.
  async function loadFrameworks() {
    const select = $('framework');
    if (!select.options.length) {
      const list = await api('frameworks');
      select.replaceChildren(...list.map(f => el('option', { value: f.id, textContent: `${f.title} (${f.requirements})` })));
    }
    await loadFrameworkCoverage();
  }

  async function loadFrameworkCoverage() {
    const id = $('framework').value;
    if (!id) return;
    const c = await api(`frameworks/${encodeURIComponent(id)}/coverage`);
    const n = c.counts;
    $('framework-counts').textContent = ` ${n.covered} covered, ${n.partial} partial, ${n.missing} missing, ${n.nonconformity} nonconformity, ${n.notApplicable} not applicable, ${n.outOfScope} out of scope (no ISO/IEC 42001 entry relates)`;
    $('framework-basis').textContent = c.framework.basis;
    const table = $('framework-coverage');
    table.dataset.framework = id;
    table.tBodies[0].replaceChildren(...c.requirements.map(r => {
      const related = r.related.map(e => {
        const b = el('button', { type: 'button', className: `badge ${e.status}`, textContent: e.id, title: `${e.title}: ${e.status} — ${e.reason}` });
        b.addEventListener('click', () => showControl(e.id));
        return el('span', {}, b, ' ');
      });
      const cited = r.related.filter(e => e.evidence).map(e => el('div', {
        className: e.evidence.polarity === 'finding' ? 'finding' : '',
        textContent: `${e.id}: ${e.evidence.display}${e.evidence.polarity === 'finding' ? ' (finding)' : ''}`
      }));
      const tr = el('tr', {}, el('td', { textContent: r.id }), el('td', { textContent: r.title }),
        el('td', {}, el('span', { className: `badge ${r.status}`, textContent: r.status })), el('td', { textContent: r.reason }),
        el('td', {}, ...(related.length ? related : ['-'])), el('td', {}, ...(cited.length ? cited : ['-'])),
        el('td', {}, el('a', { href: r.source, textContent: 'source', rel: 'noopener noreferrer', target: '_blank' })));
      tr.dataset.id = r.id;
      tr.dataset.status = r.status;
      return tr;
    }));
  }

  async function saveOwner(ev, clear) {
    if (ev) ev.preventDefault();
    if (!currentControl) return;
    const owner = $('owner-name').value.trim();
    try {
      if (clear || !owner) {
        await api(`controls/${encodeURIComponent(currentControl)}/owner`, { method: 'DELETE' });
        message(`Owner of ${currentControl} cleared.`);
      } else {
        await api(`controls/${encodeURIComponent(currentControl)}/owner`, { method: 'PUT', body: { owner, dueDate: $('owner-due').value || null } });
        message(`Owner of ${currentControl} set.`);
      }
      await refresh();
    } catch (e) { message(e.message); }
  }

  async function loadDocuments() {
    const d = await api('documents?limit=500');
    $('documents').tBodies[0].replaceChildren(...d.items.map(x => el('tr', {},
      el('td', { textContent: x.name }), el('td', { textContent: x.status }), el('td', { textContent: x.docType || '-' }),
      el('td', { textContent: String(x.version) }), el('td', { textContent: String(x.passages) }), el('td', { textContent: x.reason || '' }))));
  }

  async function search(ev) {
    ev.preventDefault();
    const q = $('search-q').value.trim();
    if (!q) return;
    try {
      const r = await api(`search?q=${encodeURIComponent(q)}&limit=20`);
      const items = r.items.map(h => el('li', {},
        el('div', { className: 'cite', textContent: `${h.documentName}, p. ${h.page}${h.headings.length ? ', § ' + h.headings[h.headings.length - 1] : ''}` }),
        el('div', { className: 'meta', textContent: `score ${h.score} · controls: ${h.mappings.map(m => `${m.controlId} (${m.score}, ${m.review})`).join(', ') || 'none'}` }),
        el('blockquote', { className: 'passage', textContent: h.text })));
      $('search-results').replaceChildren(...(items.length ? items : [el('li', { textContent: 'No passages found.' })]));
    } catch (e) { message(e.message); }
  }

  async function refresh() {
    try {
      role = (await api('me')).role;
      applyRole();
      await Promise.all([loadHeatmap(), loadGaps(), loadTasks(), loadAiSystems(), loadDocuments(), loadFrameworks()]);
      if (currentControl) await showControl(currentControl);
    } catch (e) { message(e.message); }
  }

  document.addEventListener('DOMContentLoaded', () => {
    legend();
    $('key-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      sessionStorage.setItem('aims-key', $('api-key').value.trim());
      $('api-key').value = '';
      message('');
      refresh();
    });
    $('forget-key').addEventListener('click', () => { sessionStorage.removeItem('aims-key'); location.reload(); });
    $('search-form').addEventListener('submit', search);
    $('owner-form').addEventListener('submit', (ev) => saveOwner(ev, false));
    $('owner-clear').addEventListener('click', () => saveOwner(null, true));
    $('ai-system-add').addEventListener('submit', addAiSystem);
    $('framework').addEventListener('change', () => loadFrameworkCoverage().catch(e => message(e.message)));
    if (key()) refresh(); else message('Enter your API key above to load the dashboard.');
  });
})();
