/* sabak kiosk admin area (/admin and /admin/login). Plain ES2017, no modules,
 * no inline script (the kiosk's CSP). Every POST carries the session's CSRF
 * token in X-CSRF-Token; the kiosk also checks the Origin. Uploads stream
 * the file as the request body (XMLHttpRequest, for its upload progress);
 * the kiosk runs the import as a job, and the page follows /admin/api/jobs,
 * so a reload shows the same progress. The chart is SVG drawn here. */
(function () {
  'use strict';
  var SVGNS = 'http://www.w3.org/2000/svg';
  var state = { lang: 'ky', dict: {}, csrf: '', lessons: [], jobTimer: null, lastJob: 0, info: null };
  var C = SabakCommon.create(function () { return state.lang; }, function () { return state.dict; });
  var t = C.t, pick = C.pick, fmtSize = C.fmtSize;

  function $(id) { return document.getElementById(id); }
  function el(tag, props, kids) {
    var e = document.createElement(tag);
    var k;
    for (k in props || {}) {
      if (props[k] === null || props[k] === undefined) continue;
      if (k === 'text') e.textContent = props[k];
      else if (k === 'className') e.className = props[k];
      else e.setAttribute(k, props[k]);
    }
    (kids || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function setStatus(s) { $('status').textContent = s || ''; }

  function api(method, url, body) {
    var opts = { method: method, credentials: 'same-origin', headers: {} };
    if (method === 'POST') {
      opts.headers['X-CSRF-Token'] = state.csrf;
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body || {});
    }
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (txt) {
        var doc = null;
        try { doc = txt ? JSON.parse(txt) : null; } catch (e) { doc = null; }
        if (r.status === 401 && url.indexOf('/admin/login') !== 0) {
          window.location.href = '/admin/login';
          throw new Error(t('admin.errors.signIn'));
        }
        if (!r.ok) {
          var err = new Error(doc && doc.error ? doc.error : 'HTTP ' + r.status);
          err.status = r.status;
          throw err;
        }
        return doc;
      });
    });
  }

  /* ---- languages ---------------------------------------------------------- */
  /* initialLang (web/boot.js) and applyI18n (web/common.js): shared with
   * the kiosk app. */
  var initialLang = SabakBoot.initialLang;
  function applyI18n(root) { SabakCommon.applyI18n(root, t); }
  function loadLang(lang) {
    return fetch('/i18n/' + lang + '.json').then(function (r) { return r.json(); }).then(function (d) {
      state.lang = lang;
      state.dict = d;
      document.documentElement.lang = lang;
      $('lang-select').value = lang;
      applyI18n(document);
    });
  }
  function bindLang(after) {
    $('lang-select').addEventListener('change', function () {
      var lang = this.value;
      try { window.localStorage.setItem('sabak.lang', lang); } catch (e) { /* private mode */ }
      loadLang(lang).then(after);
    });
  }

  /* ---- sign-in page --------------------------------------------------------- */
  function loginPage() {
    var info = null;
    function render() {
      if (!info) return;
      $('login-form').hidden = !(info.password || info.setup);
      $('no-password').hidden = info.password || info.setup;
      $('setup-hint').hidden = !info.setup || info.password;
      $('again-row').hidden = !info.setup || info.password;
      $('login-title').textContent = t(info.password ? 'admin.login.title' : 'admin.login.setupTitle');
    }
    bindLang(render);
    loadLang(initialLang()).then(function () {
      return api('GET', '/admin/login.json');
    }).then(function (doc) {
      info = doc;
      state.csrf = doc.csrf;
      render();
      $('password').focus();
    }).catch(function (e) { setStatus(e.message); });
    $('login-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var pw = $('password').value;
      var setup = info && !info.password;
      if (setup && pw !== $('password2').value) {
        setStatus(t('admin.login.differ'));
        return;
      }
      $('login-button').disabled = true;
      api('POST', setup ? '/admin/setup' : '/admin/login', { password: pw }).then(function () {
        window.location.href = '/admin';
      }).catch(function (e) {
        $('login-button').disabled = false;
        setStatus(e.status === 401 ? t('admin.login.wrong') : e.status === 429 ? t('admin.login.wait') : e.message);
        /* the sign-in token is for one try */
        api('GET', '/admin/login.json').then(function (doc) { state.csrf = doc.csrf; });
      });
    });
  }

  /* ---- jobs ------------------------------------------------------------------ */
  function jobText(j) {
    var pct = j.total > 0 ? Math.floor(100 * j.done / j.total) : 0;
    var s = t('admin.jobs.state.' + j.state);
    if (j.state === 'running' && j.total > 0) s += ' · ' + pct + '% (' + fmtSize(j.done) + ' / ' + fmtSize(j.total) + ')';
    if (j.copied) s += ' · ' + t('admin.jobs.copied', { n: j.copied });
    if (j.error) s += ' · ' + j.error;
    else if (j.last && j.state !== 'running') s += ' · ' + j.last;
    return s;
  }
  function showJob(j) {
    var box = $('job');
    box.hidden = !j;
    if (!j) return;
    $('job-title').textContent = t('admin.jobs.kind.' + j.kind) + ': ' + j.label;
    $('job-progress').value = j.total > 0 ? Math.floor(100 * j.done / j.total) : (j.state === 'running' ? 0 : 100);
    $('job-text').textContent = jobText(j);
    $('job-cancel').hidden = j.state !== 'running';
    $('job-cancel').setAttribute('data-job', j.id);
    box.setAttribute('data-state', j.state);
    box.setAttribute('data-id', j.id);
  }
  /* Follow the jobs until none runs; resolve with the newest one. */
  function pollJobs() {
    return api('GET', '/admin/api/jobs').then(function (doc) {
      var j = doc.jobs[0] || null;
      showJob(j);
      if (j && j.state === 'running') {
        return new Promise(function (res) { setTimeout(res, 500); }).then(pollJobs);
      }
      if (j && j.id !== state.lastJob) {
        state.lastJob = j.id;
        refreshLessons();
      }
      return j;
    });
  }

  /* ---- lessons and upload -------------------------------------------------------- */
  function refreshLessons() {
    return Promise.all([api('GET', '/admin/api/lessons'), api('GET', '/admin/api/system')]).then(function (r) {
      var cat = r[0], sys = r[1];
      state.lessons = cat.lessons;
      state.info = sys;
      var list = $('lesson-list');
      list.textContent = '';
      if (!cat.lessons.length) list.appendChild(el('li', { className: 'row', text: t('admin.lessons.none') }));
      cat.lessons.forEach(function (l) {
        var title = pick(l.title).text || l.id;
        var del = el('button', { type: 'button', className: 'btn btn-danger', 'data-id': l.id, text: t('admin.lessons.delete') });
        del.addEventListener('click', function () {
          if (!window.confirm(t('admin.lessons.confirm', { title: title }))) return;
          api('POST', '/admin/api/lessons', { delete: l.id }).then(function () {
            setStatus(t('admin.lessons.deleted', { title: title }));
            refreshLessons();
          }).catch(function (e) { setStatus(e.message); });
        });
        var meta = 'v' + l.version + ' · ' + ((l.download && l.download.size) ? fmtSize((l.download && l.download.size)) + ' · ' : '') +
          t('admin.signature.' + (l.signature || 'unsigned')) + (l.publisher ? ' · ' + l.publisher : '');
        list.appendChild(el('li', { className: 'row', 'data-lesson': l.id }, [
          el('div', { className: 'row-main' }, [el('strong', { text: title }), el('div', { className: 'hint', text: l.id + ' · ' + meta })]),
          del]));
      });
      var dl = $('damaged-list');
      dl.textContent = '';
      $('damaged-box').hidden = !cat.damaged.length;
      cat.damaged.forEach(function (d) {
        dl.appendChild(el('li', { className: 'row' }, [el('div', { className: 'row-main' }, [
          el('strong', { text: d.file }), el('div', { className: 'hint', text: d.reason })])]));
      });
      if (sys.disk) $('disk').textContent = t('admin.lessons.disk', { free: fmtSize(sys.disk.free), total: fmtSize(sys.disk.total) });
    }).catch(function (e) { setStatus(e.message); });
  }

  function uploadOne(file) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open('POST', '/admin/api/upload?name=' + encodeURIComponent(file.name));
      xhr.setRequestHeader('Content-Type', 'application/zip');
      xhr.setRequestHeader('X-CSRF-Token', state.csrf);
      var bar = $('upload-progress');
      bar.hidden = false;
      bar.value = 0;
      xhr.upload.onprogress = function (ev) {
        if (!ev.lengthComputable) return;
        bar.value = Math.floor(100 * ev.loaded / ev.total);
        $('upload-text').textContent = t('admin.upload.sending', { name: file.name, pct: bar.value });
      };
      xhr.onload = function () {
        var doc = null;
        try { doc = JSON.parse(xhr.responseText); } catch (e) { doc = null; }
        if (xhr.status === 202) resolve(doc);
        else reject(new Error(doc && doc.error ? doc.error : 'HTTP ' + xhr.status));
      };
      xhr.onerror = function () { reject(new Error(t('admin.upload.failed', { name: file.name }))); };
      xhr.send(file);
    });
  }
  function uploadFiles(files) {
    var max = state.session ? state.session.upload_max : 0;
    var queue = Array.prototype.slice.call(files);
    function next() {
      var f = queue.shift();
      if (!f) {
        $('upload-file').value = '';
        return Promise.resolve();
      }
      if (max && f.size > max) {
        $('upload-text').textContent = t('admin.upload.tooBig', { name: f.name, max: fmtSize(max) });
        return next();
      }
      return uploadOne(f).then(function () {
        $('upload-text').textContent = t('admin.upload.checking', { name: f.name });
        return pollJobs();
      }).then(function (j) {
        $('upload-progress').value = 100;
        $('upload-text').textContent = j && j.state === 'done' && j.copied ? t('admin.upload.done', { name: f.name })
          : t('admin.upload.notAdded', { name: f.name, why: (j && (j.error || j.last)) || '' });
        return next();
      });
    }
    next().catch(function (e) { $('upload-text').textContent = e.message; });
  }

  /* ---- drives ---------------------------------------------------------------------- */
  function refreshDrives() {
    var box = $('drive-list');
    box.textContent = t('catalog.loading');
    return api('GET', '/admin/api/drives').then(function (doc) {
      box.textContent = '';
      if (!doc.drives.length) box.appendChild(el('p', { className: 'panel', text: t(doc.watching ? 'admin.drives.none' : 'admin.drives.off') }));
      doc.drives.forEach(function (d) { box.appendChild(driveBox(d)); });
    }).catch(function (e) { setStatus(e.message); });
  }
  function driveBox(d) {
    var sec = el('section', { className: 'panel drive', 'data-mount': d.mount });
    sec.appendChild(el('h3', { text: d.label }));
    var facts = (d.fs || '?') + (d.free >= 0 ? ' · ' + t('admin.drives.free', { free: fmtSize(d.free) }) : '');
    sec.appendChild(el('p', { className: 'hint', text: facts }));
    if (d.fat) sec.appendChild(el('p', { className: 'notice', text: t('admin.drives.fat') }));
    var ul = el('ul', { className: 'rows' });
    var importable = 0;
    d.bundles.forEach(function (b) {
      var ok = b.status === 'new' || b.status === 'newer';
      importable += ok ? 1 : 0;
      var cb = el('input', { type: 'checkbox', value: b.name, id: 'b-' + d.label + '-' + b.name });
      cb.checked = ok;
      cb.disabled = !ok;
      var label = el('label', { for: cb.id }, [el('strong', { text: b.id ? b.id + ' v' + b.version : b.name }),
        el('span', { className: 'badge badge-' + b.status, text: t('admin.drives.status.' + b.status) })]);
      var detail = (b.size ? fmtSize(b.size) + ' · ' : '') + t('admin.signature.' + b.signature) +
        (b.publisher ? ' · ' + b.publisher : '') + (b.detail ? ' · ' + b.detail : '');
      ul.appendChild(el('li', { className: 'row', 'data-bundle': b.name, 'data-status': b.status }, [cb,
        el('div', { className: 'row-main' }, [label, el('div', { className: 'hint', text: detail })])]));
    });
    if (!d.bundles.length) ul.appendChild(el('li', { className: 'row', text: t('admin.drives.empty') }));
    sec.appendChild(ul);
    var imp = el('button', { type: 'button', className: 'btn btn-primary', text: t('admin.drives.import') });
    imp.disabled = !importable;
    imp.addEventListener('click', function () {
      var names = Array.prototype.map.call(sec.querySelectorAll('input[type=checkbox]:checked'), function (c) { return c.value; });
      if (!names.length) return;
      api('POST', '/admin/api/drives', { import: { mount: d.mount, bundles: names } }).then(pollJobs)
        .then(refreshDrives).catch(function (e) { setStatus(e.message); });
    });
    sec.appendChild(el('p', {}, [imp]));
    /* Export: the lessons this kiosk has, with the space they need first. */
    var need = state.lessons.reduce(function (a, l) { return a + ((l.download && l.download.size) || 0); }, 0);
    var big = state.lessons.some(function (l) { return ((l.download && l.download.size) || 0) > 4294967295; });
    var fits = d.free < 0 || need <= d.free;
    sec.appendChild(el('p', { className: 'hint', text: t('admin.drives.exportNeeds', { need: fmtSize(need), n: state.lessons.length }) +
      (fits ? '' : ' ' + t('admin.drives.noSpace')) + (d.fat && big ? ' ' + t('admin.drives.fatBig') : '') }));
    var exp = el('button', { type: 'button', className: 'btn', text: t('admin.drives.export') });
    exp.disabled = !state.lessons.length || !fits || (d.fat && big);
    exp.addEventListener('click', function () {
      api('POST', '/admin/api/drives', { export: { mount: d.mount, lessons: state.lessons.map(function (l) { return l.id; }) } })
        .then(pollJobs).then(refreshDrives).catch(function (e) { setStatus(e.message); });
    });
    sec.appendChild(el('p', {}, [exp]));
    return sec;
  }

  /* ---- reports ------------------------------------------------------------------------ */
  function titleOf(id) {
    for (var i = 0; i < state.lessons.length; i++) if (state.lessons[i].id === id) return pick(state.lessons[i].title).text || id;
    return id;
  }
  function refreshReports() {
    $('csv-link').setAttribute('href', '/admin/api/stats.csv?lang=' + state.lang);
    return api('GET', '/admin/api/stats').then(function (doc) {
      var months = {};
      doc.lessons.forEach(function (l) { (l.months || []).forEach(function (m) { months[m.month] = true; }); });
      var cols = Object.keys(months).sort();
      var table = $('report-table');
      table.textContent = '';
      var head = el('tr', {}, [el('th', { text: t('admin.reports.lesson') })]);
      cols.forEach(function (m) { head.appendChild(el('th', { text: m })); });
      head.appendChild(el('th', { text: t('admin.reports.total') }));
      table.appendChild(el('thead', {}, [head]));
      var body = el('tbody');
      doc.lessons.forEach(function (l) {
        var tr = el('tr', {}, [el('th', { scope: 'row', text: titleOf(l.lesson) })]);
        cols.forEach(function (m) {
          var v = 0;
          (l.months || []).forEach(function (x) { if (x.month === m) v = x.plays; });
          tr.appendChild(el('td', { text: String(v) }));
        });
        tr.appendChild(el('td', { text: String(l.plays) }));
        body.appendChild(tr);
      });
      if (!doc.lessons.length) body.appendChild(el('tr', {}, [el('td', { text: t('admin.reports.none') })]));
      table.appendChild(body);
      drawChart(doc.lessons);
    }).catch(function (e) { setStatus(e.message); });
  }
  /* Horizontal bars, one per lesson: plays in all months. */
  function drawChart(lessons) {
    var box = $('chart');
    box.textContent = '';
    if (!lessons.length) return;
    var max = Math.max.apply(null, lessons.map(function (l) { return l.plays; }).concat([1]));
    var rowH = 28, w = 600, labelW = 220, h = lessons.length * rowH + 10;
    var svg = document.createElementNS(SVGNS, 'svg');
    svg.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', t('admin.reports.chart'));
    lessons.forEach(function (l, i) {
      var y = 5 + i * rowH;
      var name = titleOf(l.lesson);
      var txt = document.createElementNS(SVGNS, 'text');
      txt.setAttribute('x', labelW - 6);
      txt.setAttribute('y', y + 18);
      txt.setAttribute('text-anchor', 'end');
      txt.textContent = name.length > 28 ? name.slice(0, 27) + '…' : name;
      var bar = document.createElementNS(SVGNS, 'rect');
      var bw = Math.max(2, Math.round((w - labelW - 50) * l.plays / max));
      bar.setAttribute('x', labelW);
      bar.setAttribute('y', y + 4);
      bar.setAttribute('width', bw);
      bar.setAttribute('height', rowH - 8);
      bar.setAttribute('class', 'bar');
      var n = document.createElementNS(SVGNS, 'text');
      n.setAttribute('x', labelW + bw + 6);
      n.setAttribute('y', y + 18);
      n.textContent = String(l.plays);
      svg.appendChild(txt);
      svg.appendChild(bar);
      svg.appendChild(n);
    });
    box.appendChild(svg);
  }

  /* ---- settings ----------------------------------------------------------------------- */
  function refreshSettings() {
    var s = state.session;
    var ul = $('urls');
    ul.textContent = '';
    (s.urls || []).forEach(function (u) { ul.appendChild(el('li', {}, [el('a', { href: u, text: u })])); });
    if (s.urls && s.urls.length) $('qr').setAttribute('src', '/api/qr.svg?text=' + encodeURIComponent(s.urls[0]));
    $('about').textContent = 'sabak ' + s.version + (state.info ? ' · ' + state.info.name : '');
    return api('GET', '/admin/api/keys').then(renderKeys).catch(function (e) { setStatus(e.message); });
  }
  function renderKeys(doc) {
    var ul = $('key-list');
    ul.textContent = '';
    if (!doc.keys.length) ul.appendChild(el('li', { className: 'row', text: t('admin.keys.none') }));
    doc.keys.forEach(function (k) {
      var rm = el('button', { type: 'button', className: 'btn btn-danger', text: t('admin.keys.remove') });
      rm.addEventListener('click', function () {
        if (!window.confirm(t('admin.keys.confirm', { name: k.name }))) return;
        api('POST', '/admin/api/keys', { remove: k.name }).then(renderKeys).catch(function (e) { setStatus(e.message); });
      });
      ul.appendChild(el('li', { className: 'row' }, [el('div', { className: 'row-main' }, [
        el('strong', { text: k.name }), el('div', { className: 'hint', text: k.comment || '' })]), rm]));
    });
  }

  /* ---- the admin page ------------------------------------------------------------------ */
  function route() {
    var view = (window.location.hash || '#lessons').slice(1);
    if (['lessons', 'drives', 'reports', 'settings'].indexOf(view) < 0) view = 'lessons';
    ['lessons', 'drives', 'reports', 'settings'].forEach(function (v) {
      $('view-' + v).hidden = v !== view;
      if (v === view) $('tab-' + v).setAttribute('aria-current', 'page');
      else $('tab-' + v).removeAttribute('aria-current');
    });
    setStatus('');
    if (view === 'lessons') refreshLessons();
    if (view === 'drives') refreshLessons().then(refreshDrives);
    if (view === 'reports') refreshLessons().then(refreshReports);
    if (view === 'settings') refreshSettings();
  }
  function adminPage() {
    bindLang(function () {
      $('upload-hint').textContent = t('admin.upload.hint', { max: fmtSize(state.session.upload_max) });
      route();
    });
    loadLang(initialLang()).then(function () {
      return api('GET', '/admin/api/session');
    }).then(function (s) {
      state.session = s;
      state.csrf = s.csrf;
      $('upload-hint').textContent = t('admin.upload.hint', { max: fmtSize(s.upload_max) });
      window.addEventListener('hashchange', route);
      route();
      return pollJobs(); /* a job started before a reload shows here again */
    }).catch(function (e) { setStatus(e.message); });
    $('upload-file').addEventListener('change', function () { if (this.files.length) uploadFiles(this.files); });
    $('drives-refresh').addEventListener('click', refreshDrives);
    $('job-cancel').addEventListener('click', function () {
      api('POST', '/admin/api/jobs', { cancel: Number(this.getAttribute('data-job')) }).catch(function (e) { setStatus(e.message); });
    });
    $('logout').addEventListener('click', function () {
      api('POST', '/admin/logout', {}).then(function () { window.location.href = '/admin/login'; });
    });
    $('print').addEventListener('click', function () { window.print(); });
    $('print-qr').addEventListener('click', function () { window.print(); });
    $('key-add').addEventListener('click', function () {
      api('POST', '/admin/api/keys', { add: { name: $('key-name').value.trim(), key: $('key-text').value.trim() + '\n' } })
        .then(function (doc) { $('key-name').value = ''; $('key-text').value = ''; renderKeys(doc); })
        .catch(function (e) { setStatus(e.message); });
    });
  }

  if ($('login-form')) loginPage();
  else adminPage();
}());
