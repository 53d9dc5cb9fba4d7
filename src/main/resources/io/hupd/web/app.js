'use strict';
// The status page: one diagram fetched once, then snapshots pushed by the server (server-sent events).
(function () {
  const token = document.body.dataset.token;
  const q = '?token=' + encodeURIComponent(token);
  const $ = (id) => document.getElementById(id);
  // For tests and the curious: which states the page has lit, in order, without reloading.
  window.hupd = { loadId: Math.random().toString(36).slice(2), seen: [], snapshots: 0, last: null };

  function text(el, s) { el.textContent = s == null || s === '' ? '-' : String(s); }

  function human(ms) {
    if (ms == null) return '-';
    if (ms < 1000) return ms + 'ms';
    if (ms < 60000) return (ms / 1000).toFixed(1) + 's';
    const s = Math.floor(ms / 1000);
    if (s < 3600) return Math.floor(s / 60) + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(s / 3600) + 'h ' + String(Math.floor((s % 3600) / 60)).padStart(2, '0') + 'm';
  }

  function bytes(n) {
    if (n == null || n < 0) return '?';
    if (n < 1024) return n + ' B';
    if (n < 1048576) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1048576).toFixed(1) + ' MiB';
  }

  function light(state, update) {
    const svg = $('diagram').querySelector('svg');
    if (!svg) return;
    svg.querySelectorAll('.current, .visited, .taken').forEach((el) => el.classList.remove('current', 'visited', 'taken'));
    if (update) {
      for (const t of update.transitions) {
        const edge = document.getElementById('e-' + t.from + '--' + t.to);
        if (edge) edge.classList.add('taken');
        const s = document.getElementById('s-' + t.to);
        if (s) s.classList.add('visited');
      }
    }
    const cur = document.getElementById('s-' + state);
    if (cur) cur.classList.add('current');
  }

  function render(snap) {
    window.hupd.snapshots++;
    window.hupd.last = snap;
    $('error').hidden = !snap.error;
    if (snap.error) text($('error'), 'cannot read the device: ' + snap.error);
    const st = snap.status || {};
    const state = st.state || 'IDLE';
    const u = snap.update;
    document.body.dataset.state = state;
    const seen = window.hupd.seen;
    if (seen[seen.length - 1] !== state) seen.push(state);
    text($('state-pill'), state);
    light(state, u);

    text($('u-id'), st.updateId);
    text($('u-target'), st.targetVersion);
    text($('u-running'), st.runningVersion == null ? 'powered off' : st.runningVersion + ' (slot ' + st.activeSlot + ')');
    text($('u-state'), state);
    text($('u-duration'), u ? human(u.durationMs) + (u.result ? '' : ' so far') : null);

    const res = $('result');
    text(res, st.lastResult || 'none yet');
    res.className = 'result' + (st.lastResult === 'COMMITTED' ? ' ok' : st.lastResult ? ' bad' : '');
    text($('reason'), st.reason || '');
    if (!st.reason) $('reason').textContent = '';

    const p = snap.progress;
    $('progress').hidden = !p;
    if (p) {
      text($('p-task'), p.task + (p.finished ? ': done' : ''));
      const pct = p.totalBytes > 0 ? Math.min(100, Math.round((100 * p.doneBytes) / p.totalBytes)) : null;
      // Some work (the simulated slot write) reports no byte counts: then say nothing rather than "0 B".
      $('p-numbers').textContent = p.totalBytes > 0 ? bytes(p.doneBytes) + ' of ' + bytes(p.totalBytes) + ' (' + pct + '%)'
        : p.doneBytes > 0 ? bytes(p.doneBytes) : '';
      $('p-bar').style.width = (p.finished ? 100 : pct || 0) + '%';
    }

    const body = $('history').querySelector('tbody');
    body.replaceChildren();
    if (u) {
      for (const t of u.transitions) {
        const tr = document.createElement('tr');
        if (t.current) tr.className = 'current';
        // Time of day only: the column stays narrow; the full date is in the tooltip.
        const time = t.at.replace(/^.*T/, '').replace(/(\.\d{3})\d*Z$/, '$1').replace(/Z$/, '');
        tr.title = t.at;
        const cells = [time, t.msInState == null ? '-' : human(t.msInState) + (t.current ? '+' : ''), t.event,
          t.to, t.reason || ''];
        cells.forEach((c, i) => {
          const td = document.createElement('td');
          td.textContent = c;
          if (i === 4) td.className = 'reason-cell';
          tr.appendChild(td);
        });
        body.appendChild(tr);
      }
    }
  }

  function connect() {
    const es = new EventSource('events' + q);
    es.addEventListener('open', () => { $('conn').className = 'conn live'; $('conn').textContent = 'live'; });
    es.addEventListener('error', () => { $('conn').className = 'conn down'; $('conn').textContent = 'reconnecting'; });
    es.addEventListener('snapshot', (e) => render(JSON.parse(e.data)));
  }

  fetch('diagram.svg' + q)
    .then((r) => { if (!r.ok) throw new Error('diagram: HTTP ' + r.status); return r.text(); })
    .then((svg) => { $('diagram').innerHTML = svg; connect(); })
    .catch((e) => { $('error').hidden = false; text($('error'), String(e)); });
})();
