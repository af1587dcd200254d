/* sabak kiosk web app: catalog, search and player.
 *
 * Plain ES2017 for Chrome 80+, Firefox ESR and Safari 14: no optional
 * chaining, no `??`, no private fields, no replaceAll, no modules. Every
 * user-facing string comes from /i18n/<lang>.json through t(). Every request
 * goes to this page's own origin (relative URLs only). */
(function () {
  'use strict';

  var LANGS = ['ky', 'ru', 'en'];
  var TIERS = ['standard', 'low', 'audio'];
  var VIDEO_TIERS = ['av1', 'standard', 'low'];
  var STORE = 'sabak.';

  var state = {
    lang: 'ky',
    dict: {},
    catalog: null,        /* the /api/lessons document */
    catalogPromise: null,
    info: null,
    bandwidth: 0,         /* bits/s measured, 0 = unknown */
    searchTimer: 0,
    searchAbort: null,
    searchSeq: 0,
    lesson: null,         /* the lesson being played */
    player: null
  };

  /* ---- small helpers ---------------------------------------------------- */
  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    var k;
    if (attrs) {
      for (k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k) || attrs[k] === null || attrs[k] === undefined) continue;
        if (k === 'text') e.textContent = attrs[k];
        else if (k === 'className') e.className = attrs[k];
        else if (k.indexOf('on') === 0) e.addEventListener(k.slice(2), attrs[k]);
        else e.setAttribute(k, attrs[k]);
      }
    }
    if (children) {
      for (k = 0; k < children.length; k++) {
        if (children[k] === null || children[k] === undefined) continue;
        e.appendChild(typeof children[k] === 'string' ? document.createTextNode(children[k]) : children[k]);
      }
    }
    return e;
  }

  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }

  function storeGet(key) {
    try { return window.localStorage.getItem(STORE + key); } catch (e) { return null; }
  }
  function storeSet(key, value) {
    try {
      if (value === null) window.localStorage.removeItem(STORE + key);
      else window.localStorage.setItem(STORE + key, String(value));
    } catch (e) { /* private mode or full: resume is a nicety */ }
  }

  /* t, pick, langName and the fmt* helpers: web/common.js (shared with the
   * offline player). */
  var C = SabakCommon.create(function () { return state.lang; }, function () { return state.dict; });
  var t = C.t, pick = C.pick, langName = C.langName;
  var fmtTime = C.fmtTime, fmtNumber = C.fmtNumber, fmtSize = C.fmtSize;

  /* An element showing a picked text, with lang= when it differs from the UI. */
  function textIn(tag, obj, className) {
    var p = pick(obj);
    var e = el(tag, { className: className || null, text: p.text });
    if (p.lang !== state.lang) e.setAttribute('lang', p.lang);
    return e;
  }

  function setStatus(text) { $('status').textContent = text || ''; }

  /* A request web/boot.js started while the scripts loaded is taken over
   * (once); anything else is fetched now. */
  function getJSON(url, signal) {
    var opts = { credentials: 'same-origin' };
    if (signal) opts.signal = signal;
    var early = !signal && window.SabakBoot ? SabakBoot.take(url) : null;
    return (early || fetch(url, opts)).then(function (r) {
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
      return r.json();
    });
  }

  /* ---- languages -------------------------------------------------------- */
  /* The saved language, else the browser's: web/boot.js (shared with the
   * admin pages), which has asked for its strings already. */
  var initialLang = SabakBoot.initialLang;

  function loadLang(lang) {
    return getJSON('/i18n/' + lang + '.json').then(function (dict) {
      state.lang = lang;
      state.dict = dict;
      document.documentElement.lang = lang;
      $('lang-select').value = lang;
      applyI18n(document);
      /* 0.75× reads 0,75× in Kyrgyz and Russian. */
      var speeds = $('speed-select').options;
      for (var i = 0; i < speeds.length; i++) speeds[i].textContent = speeds[i].value.replace('.', t('units.decimal')) + '×';
    });
  }

  function applyI18n(root) { SabakCommon.applyI18n(root, t); }

  function switchLang(lang) {
    storeSet('lang', lang);
    loadLang(lang).then(function () {
      route();
    }, function () { setStatus(t('errors.load')); });
  }

  /* ---- throughput ------------------------------------------------------- */
  /* The time data was flowing, in ms: a response's body time (first byte to
   * last), but never less than half its whole time, so that a body that came
   * in one piece with its headers does not look infinitely fast. */
  function flowSpan(t0, t1, t2) {
    return [Math.min(t0 + (t2 - t0) / 2, Math.max(t0, Math.min(t1, t2))), t2];
  }

  /* The length of the union of [start, end] spans: responses that flowed side
   * by side shared the link, so their times must not be added up. */
  function unionMs(spans) {
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var total = 0;
    var end = -Infinity;
    for (var i = 0; i < spans.length; i++) {
      var a = Math.max(spans[i][0], end);
      if (spans[i][1] > a) total += spans[i][1] - a;
      if (spans[i][1] > end) end = spans[i][1];
    }
    return total;
  }

  /* Estimate what the link sustains from the resource timings of what the page
   * already fetched (scripts, strings, catalog JSON, posters): bytes over the
   * time they were flowing. Each request's first ~round trip is latency, not a
   * lack of bandwidth: counting it made a 300 kbit/s link with 400 ms of
   * latency look like 113 kbit/s, and auto never chose a tier that fit. The
   * round trip is taken as the quickest request's whole time (browsers place
   * it before or after responseStart depending on where the delay is), and
   * requests that flowed side by side count their shared time once. */
  function measureFromTimings() {
    if (!window.performance || !performance.getEntriesByType) return 0;
    var list = performance.getEntriesByType('resource');
    var use = [];
    var rtt = Infinity;
    for (var i = 0; i < list.length; i++) {
      var e = list[i];
      var size = e.transferSize || e.encodedBodySize || 0;
      if (size <= 0 || !(e.responseEnd > e.requestStart) || e.requestStart <= 0) continue;
      use.push([e.requestStart, e.responseEnd, size]);
      rtt = Math.min(rtt, e.responseEnd - e.requestStart);
    }
    var bytes = 0;
    var spans = [];
    for (i = 0; i < use.length; i++) {
      bytes += use[i][2];
      spans.push([use[i][0] + rtt, use[i][1]]);
    }
    if (bytes < 16384) return 0;
    return bytes * 8 / (Math.max(unionMs(spans), 50) / 1000);
  }

  /* A small ranged fetch of a media file when the page has measured nothing yet. */
  function measureByProbe(url) {
    var n = 65536;
    var t0 = Date.now();
    var t1 = t0;
    return fetch(url, { headers: { Range: 'bytes=0-' + (n - 1) }, cache: 'no-store' }).then(function (r) {
      t1 = Date.now();
      return r.arrayBuffer();
    }).then(function (buf) {
      var span = flowSpan(t0, t1, Date.now());
      return buf.byteLength * 8 / (Math.max(span[1] - span[0], 1) / 1000);
    }, function () { return 0; });
  }

  function estimateBandwidth(lesson) {
    if (state.bandwidth > 0) return Promise.resolve(state.bandwidth);
    var bw = measureFromTimings();
    if (bw > 0) { state.bandwidth = bw; return Promise.resolve(bw); }
    var r = lesson.renditions || [];
    var url = r.length ? r[r.length - 1].url : null;
    if (!url) return Promise.resolve(0);
    return measureByProbe(url).then(function (b) { state.bandwidth = b; return b; });
  }

  /* ---- catalog ---------------------------------------------------------- */
  /* The cards, titled in the interface language (details: /api/lessons/<id>). */
  function catalogURL() { return '/api/lessons?lang=' + state.lang; }
  function loadCatalog(force) {
    if (!state.catalogPromise || force || state.catalogLang !== state.lang) {
      state.catalogLang = state.lang;
      state.catalogPromise = getJSON(catalogURL()).then(function (doc) {
        state.catalog = doc;
        return doc;
      }, function (err) {
        state.catalogPromise = null;
        throw err;
      });
    }
    return state.catalogPromise;
  }

  function topicName(topic) {
    var key = 'topics.' + topic;
    var v = t(key);
    return v === key ? topic : v;
  }

  function renditionsByTier(lesson) {
    var by = {};
    var r = lesson.renditions || [];
    for (var i = 0; i < r.length; i++) if (!by[r[i].tier]) by[r[i].tier] = r[i];
    return by;
  }

  /* The renditions with one sound-only tier: the first (Opus; audio-aac is
   * the fallback for browsers without Opus, chosen by the player). */
  function oneSoundOnly(list) {
    var seen = false;
    return (list || []).filter(function (r) {
      if (r.kind !== 'audio') return true;
      if (seen) return false;
      seen = true;
      return true;
    });
  }

  function tierLabel(tier) {
    var v = t('quality.' + tier);
    return v === 'quality.' + tier ? tier : v;
  }

  /* On cards, what a size is for ("for a phone"), not the tier's name. */
  function cardTierLabel(tier) {
    var v = t('card.tiers.' + tier);
    return v === 'card.tiers.' + tier ? tierLabel(tier) : v;
  }

  function renderCard(lesson) {
    var title = pick(lesson.title);
    var meta = [];
    meta.push(el('span', { className: 'dur' }, [
      el('span', { className: 'sr', text: t('card.duration') + ' ' }), fmtTime(lesson.duration)]));
    var subs = lesson.subtitles || [];
    if (subs.length) {
      meta.push(el('span', { className: 'subs', text: t('card.subtitles', {
        langs: subs.map(function (s) { return langName(s.lang); }).join(', ') }) }));
    }
    var sizes = oneSoundOnly(lesson.renditions).map(function (r) {
      /* No-break spaces: a tier and its size never part at a line end. */
      return (cardTierLabel(r.tier) + ' ' + fmtSize(r.size)).replace(/ /g, '\u00a0');
    });
    var img = el('img', { className: 'poster', src: lesson.thumbnail || lesson.poster, alt: '',
      loading: 'lazy', width: '320', height: '180' });
    var h = el('h3', { className: 'card-title', id: 'card-' + lesson.id }, [
      el('a', { href: '#/lesson/' + encodeURIComponent(lesson.id), text: title.text })]);
    if (title.lang !== state.lang) h.setAttribute('lang', title.lang);
    return el('li', { className: 'card', 'data-id': lesson.id }, [
      el('div', { className: 'poster-box' }, [img]),
      el('div', { className: 'card-body' }, [
        h,
        el('p', { className: 'meta' }, meta),
        /* Who made it (a trusted signature), or a mark under require_signature = warn. */
        lesson.publisher ? el('p', { className: 'publisher', text: t('card.publisher', { name: lesson.publisher }) }) : null,
        lesson.unverified ? el('p', { className: 'unverified', text: t('card.unverified') }) : null,
        sizes.length ? el('p', { className: 'sizes', text: t('card.sizes', { sizes: sizes.join(' · ') }) }) : null
      ])
    ]);
  }

  function renderCatalog() {
    var box = $('catalog');
    clear(box);
    var lessons = (state.catalog && state.catalog.lessons) || [];
    if (!lessons.length) {
      box.appendChild(el('p', { className: 'empty', text: t('catalog.empty') }));
      return;
    }
    /* Group by topic, keeping the server's topic order; sort each by order. */
    var groups = [];
    var byTopic = {};
    lessons.forEach(function (l) {
      var topic = l.topic || '';
      if (!byTopic[topic]) { byTopic[topic] = []; groups.push(topic); }
      byTopic[topic].push(l);
    });
    box.appendChild(el('h1', { className: 'section-title', text: t('catalog.title') }));
    groups.forEach(function (topic, gi) {
      var list = byTopic[topic].slice().sort(function (a, b) {
        return (a.order || 0) - (b.order || 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      });
      var hid = 'topic-' + gi;
      box.appendChild(el('section', { className: 'topic', 'aria-labelledby': hid }, [
        el('h2', { id: hid, className: 'topic-title', text: topic ? topicName(topic) : t('catalog.other') }),
        el('ul', { className: 'cards' }, list.map(renderCard))
      ]));
    });
  }

  function renderQR() {
    var info = state.info;
    var url = info && info.urls && info.urls.length ? info.urls[0] : '';
    if (!url) { $('qr-box').hidden = true; return; }
    var img = $('qr-img');
    if (!img.getAttribute('src')) img.setAttribute('src', '/api/qr.svg');
    var a = $('qr-url');
    a.textContent = url;
    a.setAttribute('href', url);
    $('qr-box').hidden = false;
  }

  /* The kiosk picks up new and removed bundles by itself; a catalog left open
   * on the office PC follows it: poll while the home page is visible. */
  var pollTimer = 0;
  function pollCatalog() {
    if ($('view-home').hidden || document.hidden || !state.catalog) return;
    getJSON(catalogURL()).then(function (doc) {
      if (!state.catalog || doc.generation === state.catalog.generation) return;
      state.catalog = doc;
      state.catalogPromise = Promise.resolve(doc);
      if (!$('view-home').hidden) renderCatalog();
    }, function () { /* the kiosk may be restarting: try again next time */ });
  }

  /* A USB drive with lessons (GET /api/drives): a notice for staff. */
  var driveTimer = 0;
  function pollDrives() {
    if ($('view-home').hidden || document.hidden) return;
    getJSON('/api/drives').then(function (doc) {
      var box = $('drive-notice');
      var d = (doc.drives || [])[0];
      var text = '';
      if (d) {
        var fresh = doc['new'] || 0;
        if (d.state === 'importing') text = t('drives.importing', { n: fresh });
        else if (d.state === 'failed') text = t('drives.failed');
        else if (fresh > 0) text = t('drives.new', { n: fresh }) + ' ' + t('drives.hint');
        else if (d.imported > 0) text = t('drives.imported', { n: d.imported });
        else text = t('drives.nothing');
      }
      box.textContent = text;
      box.hidden = !text;
    }, function () { /* try again next time */ });
  }

  function showHome() {
    if (!pollTimer) pollTimer = setInterval(pollCatalog, 30000);
    if (!driveTimer) driveTimer = setInterval(pollDrives, 5000);
    pollDrives();
    showView('view-home');
    document.title = t('app.title');
    setStatus(state.catalog ? '' : t('catalog.loading'));
    loadCatalog().then(function () {
      setStatus('');
      renderCatalog();
      var q = $('search-input').value;
      if (q.trim()) runSearch(q);
    }, function () {
      setStatus(t('errors.load'));
    });
    if (!state.info) {
      getJSON('/api/info').then(function (info) { state.info = info; renderQR(); }, function () {});
    } else {
      renderQR();
    }
  }

  /* ---- search ----------------------------------------------------------- */
  function onSearchInput() {
    var q = $('search-input').value;
    $('search-clear').hidden = q === '';
    clearTimeout(state.searchTimer);
    state.searchTimer = setTimeout(function () { runSearch(q); }, 250);
  }

  function runSearch(q) {
    var seq = ++state.searchSeq;
    if (state.searchAbort) state.searchAbort.abort();
    state.searchAbort = null;
    q = q.trim();
    if (!q) {
      $('search-results').hidden = true;
      $('catalog').hidden = false;
      return;
    }
    var signal = null;
    if (window.AbortController) {
      state.searchAbort = new AbortController();
      signal = state.searchAbort.signal;
    }
    var url = '/api/search?q=' + encodeURIComponent(q) + '&lang=' + state.lang + '&limit=50';
    getJSON(url, signal).then(function (doc) {
      if (seq !== state.searchSeq) return;
      renderResults(doc);
    }, function (err) {
      if (seq !== state.searchSeq || (err && err.name === 'AbortError')) return;
      renderResults({ results: [], error: true });
    });
  }

  /* Case folding as the server does it for Cyrillic and Latin (ё = е);
   * toLowerCase keeps the length of these scripts, so offsets carry over. */
  function fold(s) { return s.toLowerCase().replace(/ё/g, 'е'); }

  /* The text with every query word wrapped in <mark>, as DOM nodes. */
  function highlight(text, words) {
    var f = fold(text);
    var span = el('span');
    if (f.length !== text.length || !words.length) { span.textContent = text; return span; }
    var marks = [];
    words.forEach(function (w) {
      for (var at = f.indexOf(w); w && at >= 0; at = f.indexOf(w, at + w.length)) marks.push([at, at + w.length]);
    });
    marks.sort(function (a, b) { return a[0] - b[0]; });
    var pos = 0;
    marks.forEach(function (m) {
      if (m[0] < pos) return;
      span.appendChild(document.createTextNode(text.slice(pos, m[0])));
      span.appendChild(el('mark', { text: text.slice(m[0], m[1]) }));
      pos = m[1];
    });
    span.appendChild(document.createTextNode(text.slice(pos)));
    return span;
  }

  function renderResults(doc) {
    var words = fold(String(doc.query || '')).split(/\s+/).filter(function (w) { return w !== ''; });
    var results = doc.results || [];
    var list = $('search-list');
    clear(list);
    $('search-results-title').textContent = doc.error ? t('errors.search') :
      results.length ? t('search.found', { n: results.length }) : t('search.none');
    results.forEach(function (r) {
      var hits = (r.hits || []).map(function (h) {
        if (h.field === 'subtitles') {
          var a = el('a', { className: 'hit-link', href: '#/lesson/' + encodeURIComponent(r.id) + '?t=' + h.start }, [
            el('span', { className: 'hit-time', text: fmtTime(h.start) }),
            highlight(h.text, words)]);
          a.lastChild.className = 'hit-text';
          if (h.lang) a.lastChild.setAttribute('lang', h.lang);
          /* The accessible name starts with what is seen (time, line), then
           * says where the link goes. */
          a.appendChild(el('span', { className: 'sr', text: ' (' + t('search.openAt', { time: fmtTime(h.start) }) + ')' }));
          return el('li', { className: 'hit hit-subs' }, [a]);
        }
        var item = el('li', { className: 'hit' }, [
          el('span', { className: 'hit-field', text: t('search.field.' + h.field) + ': ' }),
          highlight(h.text, words)]);
        if (h.lang) item.lastChild.setAttribute('lang', h.lang);
        return item;
      });
      var title = pick(r.title);
      var h3 = el('h3', { className: 'result-title' }, [
        el('a', { href: '#/lesson/' + encodeURIComponent(r.id), text: title.text })]);
      if (title.lang !== state.lang) h3.setAttribute('lang', title.lang);
      list.appendChild(el('li', { className: 'result' }, [
        h3,
        r.close ? el('p', { className: 'result-close', text: t('search.close') }) : null,
        hits.length ? el('ul', { className: 'hits' }, hits) : null
      ]));
    });
    $('search-results').hidden = false;
    $('catalog').hidden = results.length > 0;
  }

  /* ---- player ----------------------------------------------------------- */
  function posKey(lesson) { return 'pos.' + lesson.id + '.v' + lesson.version; }

  function playable(video, r) {
    var type = r.mime + (r.codecs ? '; codecs="' + r.codecs + '"' : '');
    return video.canPlayType(type) !== '';
  }

  /* Renditions this browser plays, in the server's preference order. Only
   * the first playable sound-only one (Opus, else the AAC fallback). */
  function playableRenditions(video, lesson) {
    return oneSoundOnly((lesson.renditions || []).filter(function (r) { return playable(video, r); }));
  }

  /* The best video tier the measured bandwidth sustains (1.5x headroom). */
  function autoTier(list, bw) {
    var video = list.filter(function (r) { return r.kind !== 'audio'; });
    if (!video.length) return list.length ? list[0].tier : null;
    if (!(bw > 0)) return video[0].tier;
    for (var i = 0; i < video.length; i++) {
      if (!video[i].bitrate || video[i].bitrate * 1.5 <= bw) return video[i].tier;
    }
    return video[video.length - 1].tier;
  }

  /* The next lower video tier, or null. Auto never drops to audio by itself:
   * a screencast without its picture is a different lesson. */
  function lowerTier(list, tier) {
    var video = list.filter(function (r) { return r.kind !== 'audio'; });
    for (var i = 0; i < video.length - 1; i++) if (video[i].tier === tier) return video[i + 1].tier;
    return null;
  }

  function Player(lesson, startAt) {
    this.lesson = lesson;
    this.video = $('video');
    this.list = playableRenditions(this.video, lesson);
    /* A manual quality holds for this lesson only, unless the person ticked
     * "for all lessons" (the plain 'quality' key). */
    this.mode = storeGet('quality.' + lesson.id) || storeGet('quality') || 'auto';
    if (this.mode !== 'auto' && !this.has(this.mode)) this.mode = 'auto';
    this.tier = null;
    this.waits = [];
    this.stalls = [];
    this.liftTimer = 0;
    this.pointerAt = 0;
    this.lastSave = 0;
    this.pendingSeek = startAt;
    this.resumePlay = false;
    this.handlers = [];
    this.captionMode = null;
    this.watch = null;
  }

  Player.prototype.has = function (tier) {
    for (var i = 0; i < this.list.length; i++) if (this.list[i].tier === tier) return true;
    return false;
  };

  Player.prototype.on = function (target, type, fn) {
    var self = this;
    var h = function (e) { fn.call(self, e); };
    target.addEventListener(type, h);
    this.handlers.push([target, type, h]);
  };

  Player.prototype.start = function () {
    var self = this;
    var v = this.video;
    var lesson = this.lesson;
    this.showPoster();
    this.on(v, 'playing', function () { v.removeAttribute('poster'); });
    var rate = parseFloat(storeGet('speed') || '1');
    if (!(rate >= 0.75 && rate <= 2)) rate = 1;
    v.defaultPlaybackRate = rate;
    v.playbackRate = rate;
    $('speed-select').value = String(rate);
    this.buildTracks();
    this.buildQualityMenu();
    this.on(v, 'loadedmetadata', this.onMetadata);
    this.on(v, 'timeupdate', this.onTime);
    this.on(v, 'pause', function () { this.save(true); this.usage().end(false); });
    this.on(v, 'ended', function () { storeSet(posKey(lesson), null); });
    this.on(v, 'waiting', this.onWaiting);
    ['playing', 'waiting', 'seeking', 'ended'].forEach(function (type) {
      self.on(v, type, function () { this.usage().tick(); });
    });
    this.on(v, 'ratechange', function () {
      if (v.playbackRate >= 0.75 && v.playbackRate <= 2) {
        $('speed-select').value = String(v.playbackRate);
        storeSet('speed', v.playbackRate);
      }
    });
    this.on(v, 'error', this.onError);
    this.on(window, 'pagehide', function () { this.save(true); this.usage().end(true); });
    /* The browser's controls show while paused and for a while after the
     * pointer moves over the video: the cues move up out of their way. */
    ['play', 'pause', 'ended', 'mousemove', 'pointerdown', 'touchstart', 'focus'].forEach(function (type) {
      self.on(v, type, function () {
        if (type !== 'play' && type !== 'pause' && type !== 'ended') this.pointerAt = Date.now();
        this.lift();
      });
    });
    this.on(v, 'loadedmetadata', this.sizeCues);
    this.on(window, 'resize', this.sizeCues);
    if (window.ResizeObserver) {
      this.resizer = new ResizeObserver(function () { self.sizeCues(); });
      this.resizer.observe(v);
    }
    this.sizeCues();
    this.lift();
    $('stall-hint').hidden = true;
    if (!this.list.length) {
      setStatus(t('errors.noPlayable'));
      return;
    }
    if (this.mode === 'auto') {
      estimateBandwidth(lesson).then(function (bw) {
        if (self.video !== v || state.player !== self) return;
        v.setAttribute('data-bw', String(Math.round(bw)));  /* what auto went by */
        self.load(autoTier(self.list, bw));
      });
    } else {
      this.load(this.mode);
    }
  };

  /* Whether this page has fetched url already (so the cache has it). */
  function fetchedAlready(url) {
    if (!url || !window.performance || !performance.getEntriesByName) return false;
    try { return performance.getEntriesByName(new URL(url, location.href).href).length > 0; } catch (e) { return false; }
  }

  /* The still shown before playback, never at the cost of the first frame
   * (issue 11, slow links): the full poster on a link measured fast; else the
   * card's thumbnail if this page has it already (no request), or, only if
   * the browser stops loading without a frame to show (a 'suspend' before
   * HAVE_CURRENT_DATA: browsers that load no frame before play), the
   * thumbnail, the smaller of the two. Dropped once playback starts, so a
   * tier switch never fetches it. */
  Player.prototype.showPoster = function () {
    var v = this.video;
    var lesson = this.lesson;
    var small = lesson.thumbnail || lesson.poster;
    var bw = state.bandwidth || measureFromTimings();
    if (lesson.poster && bw >= 2e6) v.setAttribute('poster', lesson.poster);
    else if (fetchedAlready(small)) v.setAttribute('poster', small);
    else if (small) {
      this.on(v, 'suspend', function () {
        if (v.readyState < 2 && v.paused && !v.played.length && !v.hasAttribute('poster')) v.setAttribute('poster', small);
      });
    }
  };

  /* Play counts (web/usage.js): real playback time, no personal data. The
   * script loads after the page (loadUsage), as the first view does not
   * need it: the watch starts once it is there. */
  var NO_WATCH = { tick: function () {}, end: function () {} };
  Player.prototype.usage = function () {
    if (!this.watch && window.SabakUsage) this.watch = new SabakUsage.Watch(this.video, this.lesson.id);
    return this.watch || NO_WATCH;
  };

  Player.prototype.stop = function () {
    this.save(true);
    if (this.watch) this.watch.end(false);
    this.handlers.forEach(function (h) { h[0].removeEventListener(h[1], h[2]); });
    this.handlers = [];
    var v = this.video;
    v.pause();
    clear(v);
    v.removeAttribute('src');
    v.removeAttribute('poster');
    v.load();
    v.removeAttribute('data-tier');
    v.removeAttribute('data-bw');
    if (this.resizer) this.resizer.disconnect();
    clearTimeout(this.liftTimer);
    $('cue-top').hidden = true;
    $('cue-main').hidden = true;
    $('player').className = 'player';
    $('stall-hint').hidden = true;
  };

  /* (Re)load the sources with `tier` first, keeping position, rate and play state. */
  Player.prototype.load = function (tier) {
    var v = this.video;
    if (this.tier !== null) {
      /* Not loaded yet (a start position still pending): keep that one. */
      if (this.pendingSeek === null || this.pendingSeek === undefined) this.pendingSeek = v.currentTime;
      this.resumePlay = !v.paused && !v.ended;
    }
    this.tier = tier;
    this.waits = [];
    this.stalls = [];
    var sources = v.querySelectorAll('source');
    for (var i = 0; i < sources.length; i++) v.removeChild(sources[i]);
    var first = v.firstChild;
    var ordered = this.list.filter(function (r) { return r.tier === tier; })
      .concat(this.list.filter(function (r) { return r.tier !== tier; }));
    ordered.forEach(function (r) {
      var s = el('source', { src: r.url, type: r.mime + (r.codecs ? '; codecs="' + r.codecs + '"' : ''),
        'data-tier': r.tier });
      v.insertBefore(s, first);
    });
    /* With <source> children a failure fires on the sources, not the video:
     * the last one failing means none of them played. */
    var last = v.querySelectorAll('source');
    if (last.length) last[last.length - 1].addEventListener('error', function () { setStatus(t('errors.media')); });
    v.load();
    this.showTier();
  };

  Player.prototype.currentTier = function () {
    var src = this.video.currentSrc || '';
    for (var i = 0; i < this.list.length; i++) {
      if (src.indexOf(this.list[i].url) >= 0) return this.list[i].tier;
    }
    return this.tier;
  };

  Player.prototype.showTier = function () {
    var tier = this.currentTier();
    $('now-playing').textContent = tier ? t('player.nowPlaying', { quality: tierLabel(tier) }) : '';
    this.video.setAttribute('data-tier', tier || '');
  };

  Player.prototype.onMetadata = function () {
    var v = this.video;
    v.playbackRate = v.defaultPlaybackRate;
    var at = this.pendingSeek;
    this.pendingSeek = null;
    if (at > 0 && at < v.duration - 1) v.currentTime = at;
    this.applyCaptions();
    this.showTier();
    if (this.resumePlay) {
      this.resumePlay = false;
      var p = v.play();
      if (p && p.catch) p.catch(function () {});
    }
  };

  Player.prototype.onTime = function () {
    this.usage().tick();
    this.save(false);
    this.markChapter();
  };

  Player.prototype.save = function (force) {
    var v = this.video;
    var now = Date.now();
    if (!force && now - this.lastSave < 2000) return;
    if (this.pendingSeek !== null && this.pendingSeek !== undefined) return; /* not loaded yet */
    if (!(v.currentTime > 0) || v.ended) return;
    this.lastSave = now;
    var pos = Math.round(v.currentTime * 10) / 10;
    storeSet(posKey(this.lesson), pos);
    /* Keep the address in step so a reload or a shared link resumes here;
     * only while this lesson is the page shown (stop() runs after leaving). */
    if (state.player === this && history.replaceState && currentRoute().id === this.lesson.id) {
      history.replaceState(null, '', '#/lesson/' + encodeURIComponent(this.lesson.id) + '?t=' + pos);
    }
  };

  /* Auto mode: two stalls within 30 s while playing, or one stall longer
   * than 4 s, step down one tier. */
  Player.prototype.onWaiting = function () {
    var self = this;
    var v = this.video;
    if (v.paused || v.seeking) return;
    var now = Date.now();
    if (this.mode !== 'auto') {
      /* A manual tier is not changed behind the person's back; after two
       * stalls in it within a minute, offer Auto. */
      this.stalls = this.stalls.filter(function (w) { return now - w < 60000; });
      this.stalls.push(now);
      if (this.stalls.length >= 2) $('stall-hint').hidden = false;
      return;
    }
    this.waits = this.waits.filter(function (w) { return now - w < 30000; });
    this.waits.push(now);
    var down = function () {
      var lower = lowerTier(self.list, self.currentTier());
      if (lower) {
        setStatus(t('player.steppedDown', { quality: tierLabel(lower) }));
        self.load(lower);
      }
    };
    if (this.waits.length >= 2) { down(); return; }
    var tier = this.tier;
    setTimeout(function () {
      if (state.player === self && self.tier === tier && v.readyState < 3 && !v.paused && !v.seeking) down();
    }, 4000);
  };

  Player.prototype.onError = function () {
    var err = this.video.error;
    if (err) setStatus(t('errors.media'));
  };

  Player.prototype.buildQualityMenu = function () {
    var sel = $('quality-select');
    for (var i = 0; i < sel.options.length; i++) {
      var o = sel.options[i];
      o.disabled = o.value !== 'auto' && !this.has(o.value);
      o.hidden = o.disabled;
    }
    sel.value = this.mode;
    this.showQualityAll();
  };

  /* "Use this quality for all lessons": offered with a manual choice. */
  Player.prototype.showQualityAll = function () {
    var global = storeGet('quality');
    $('quality-all').checked = global !== null && global !== 'auto';
    $('quality-all-box').hidden = this.mode === 'auto' && !$('quality-all').checked;
  };

  Player.prototype.setQuality = function (mode) {
    this.mode = mode;
    storeSet('quality.' + this.lesson.id, mode);
    if ($('quality-all').checked) storeSet('quality', mode === 'auto' ? null : mode);
    $('quality-select').value = mode;
    this.showQualityAll();
    $('stall-hint').hidden = true;
    this.stalls = [];
    var tier = mode === 'auto' ? autoTier(this.list, state.bandwidth) : mode;
    if (tier && tier !== this.tier) this.load(tier);
  };

  /* One <track> per subtitle language, kept "hidden": the page draws the
   * active cues itself (drawCues), the first language over the bottom of the
   * picture, the second at the top, or in a strip under the picture on
   * narrow screens. The browser's own cues are ~5% of the video's height:
   * 10 px on a phone, under the controls while they show. */
  Player.prototype.buildTracks = function () {
    var v = this.video;
    var subs = this.lesson.subtitles || [];
    var self = this;
    subs.forEach(function (s) {
      var tr = el('track', { kind: 'subtitles', src: s.url, srclang: s.lang, label: langName(s.lang) });
      v.appendChild(tr);
      tr.addEventListener('cuechange', function () { self.drawCues(); });
    });
    var sel = $('captions-select');
    clear(sel);
    sel.appendChild(el('option', { value: 'off', text: t('captions.off') }));
    subs.forEach(function (s) { sel.appendChild(el('option', { value: s.lang, text: langName(s.lang) })); });
    var langs = subs.map(function (s) { return s.lang; });
    if (langs.indexOf('ky') >= 0 && langs.indexOf('ru') >= 0) {
      sel.appendChild(el('option', { value: 'ky+ru', text: t('captions.both', { a: langName('ky'), b: langName('ru') }) }));
    }
    var saved = storeGet('captions');
    var mode = null;
    if (saved && (saved === 'off' || optionExists(sel, saved))) mode = saved;
    if (!mode) {
      var order = [state.lang].concat(LANGS);
      for (var i = 0; i < order.length && !mode; i++) if (langs.indexOf(order[i]) >= 0) mode = order[i];
    }
    this.captionMode = mode || 'off';
    sel.value = this.captionMode;
    this.applyCaptions();
  };

  Player.prototype.setCaptions = function (mode) {
    this.captionMode = mode;
    storeSet('captions', mode);
    $('captions-select').value = mode;
    this.applyCaptions();
  };

  /* c: cycle off -> each language -> both -> off. */
  Player.prototype.cycleCaptions = function () {
    var sel = $('captions-select');
    var i = sel.selectedIndex;
    this.setCaptions(sel.options[(i + 1) % sel.options.length].value);
  };

  Player.prototype.applyCaptions = function () {
    var parts = (this.captionMode || 'off').split('+');
    var tracks = this.video.textTracks;
    for (var i = 0; i < tracks.length; i++) {
      var tr = tracks[i];
      tr.mode = parts.indexOf(tr.language) >= 0 ? 'hidden' : 'disabled';
    }
    $('player').className = 'player' + (parts.length > 1 ? ' two' : '') + (this.lifted ? ' lifted' : '');
    this.drawCues();
  };

  /* The active cues of one language, as one box of lines (markup removed). */
  function fillCueBox(box, tracks, lang) {
    var lines = [];
    for (var i = 0; i < tracks.length; i++) {
      if (tracks[i].language !== lang || !tracks[i].activeCues) continue;
      for (var j = 0; j < tracks[i].activeCues.length; j++) lines.push(tracks[i].activeCues[j].text);
    }
    clear(box);
    var text = lines.join('\n').replace(/<[^>]*>/g, '');
    if (text) box.appendChild(el('span', { className: 'cue-text', text: text }));
    box.setAttribute('lang', lang);
    return text !== '';
  }

  Player.prototype.drawCues = function () {
    var parts = (this.captionMode || 'off').split('+');
    var tracks = this.video.textTracks;
    var main = $('cue-main');
    var top = $('cue-top');
    main.hidden = parts[0] === 'off' || !fillCueBox(main, tracks, parts[0]);
    if (parts.length < 2) { top.hidden = true; return; }
    /* The strip under a narrow video keeps its place while empty (CSS). */
    fillCueBox(top, tracks, parts[1]);
    top.hidden = false;
  };

  /* Cue size: at least 16 px, else 5.5% of the picture's height, so it
   * scales with the player on a desktop and in fullscreen. */
  Player.prototype.sizeCues = function () {
    var h = this.video.getBoundingClientRect().height;
    var px = Math.max(16, Math.min(48, Math.round(h * 0.055)));
    $('player').style.setProperty('--cue-size', px + 'px');
  };

  /* Controls show while paused, and for 3 s after the pointer moved. */
  Player.prototype.lift = function () {
    var self = this;
    var v = this.video;
    var since = Date.now() - this.pointerAt;
    this.lifted = v.paused || v.ended || since < 3000;
    var cls = $('player').classList;
    if (this.lifted) cls.add('lifted'); else cls.remove('lifted');
    clearTimeout(this.liftTimer);
    if (this.lifted && !v.paused && !v.ended) this.liftTimer = setTimeout(function () { self.lift(); }, 3000 - since + 50);
  };

  Player.prototype.markChapter = function () {
    var ch = this.lesson.chapters || [];
    var now = this.video.currentTime;
    var cur = -1;
    for (var i = 0; i < ch.length; i++) if (ch[i].start <= now + 0.25) cur = i;
    var items = $('chapters').querySelectorAll('button');
    for (i = 0; i < items.length; i++) {
      if (i === cur) items[i].setAttribute('aria-current', 'true');
      else items[i].removeAttribute('aria-current');
    }
  };

  Player.prototype.seek = function (to, play) {
    var v = this.video;
    var d = isFinite(v.duration) ? v.duration : this.lesson.duration || 0;
    to = Math.max(0, d ? Math.min(to, d - 0.1) : to);
    if (v.readyState < 1) { this.pendingSeek = to; return; }
    v.currentTime = to;
    if (play && v.paused) {
      var p = v.play();
      if (p && p.catch) p.catch(function () {});
    }
  };

  Player.prototype.toggle = function () {
    var v = this.video;
    if (v.paused || v.ended) {
      var p = v.play();
      if (p && p.catch) p.catch(function () {});
    } else {
      v.pause();
    }
  };

  function optionExists(sel, value) {
    for (var i = 0; i < sel.options.length; i++) if (sel.options[i].value === value) return true;
    return false;
  }

  function toggleFullscreen() {
    var box = $('player');
    var fsEl = document.fullscreenElement || document.webkitFullscreenElement;
    if (fsEl) {
      if (document.exitFullscreen) document.exitFullscreen();
      else if (document.webkitExitFullscreen) document.webkitExitFullscreen();
      return;
    }
    if (box.requestFullscreen) box.requestFullscreen().catch(function () {});
    else if (box.webkitRequestFullscreen) box.webkitRequestFullscreen();
    else if ($('video').webkitEnterFullscreen) $('video').webkitEnterFullscreen();
  }

  function renderLessonInfo(lesson) {
    var title = pick(lesson.title);
    var h1 = $('lesson-title');
    h1.textContent = title.text;
    if (title.lang !== state.lang) h1.setAttribute('lang', title.lang); else h1.removeAttribute('lang');
    document.title = title.text + ' · ' + t('app.title');
    var desc = pick(lesson.description);
    var d = $('lesson-desc');
    d.textContent = desc.text;
    d.hidden = !desc.text;
    if (desc.lang !== state.lang) d.setAttribute('lang', desc.lang); else d.removeAttribute('lang');
    /* A silent recording says so (the manifest's audio.present is false);
     * bundles made before the key existed say nothing. */
    $('lesson-nosound').hidden = lesson.sound !== 'none';

    var ch = lesson.chapters || [];
    var ol = $('chapters');
    clear(ol);
    ch.forEach(function (c) {
      var ct = pick(c.title);
      var b = el('button', { type: 'button', className: 'chapter', onclick: function () {
        if (state.player) state.player.seek(c.start, true);
        scrollToPlayer();
      } }, [el('span', { className: 'chapter-time', text: fmtTime(c.start) }),
        el('span', { className: 'chapter-title', text: ct.text, lang: ct.lang !== state.lang ? ct.lang : null })]);
      ol.appendChild(el('li', null, [b]));
    });
    $('chapters-box').hidden = ch.length === 0;

    var ul = $('downloads');
    clear(ul);
    var link = function (url, label, size, name) {
      return el('li', null, [el('a', { href: url, download: name || '', className: 'dl' }, [
        el('span', { text: label }), el('span', { className: 'dl-size', text: size ? fmtSize(size) : '' })])]);
    };
    if (lesson.download) {
      ul.appendChild(link(lesson.download.url, t('downloads.bundle'), lesson.download.size, lesson.download.name));
    }
    oneSoundOnly(lesson.renditions).forEach(function (r) {
      var ext = r.kind === 'audio' ? '.m4a' : '.mp4';
      var label = r.kind === 'audio' ? t('downloads.audio') : t('downloads.tier', { quality: tierLabel(r.tier) });
      ul.appendChild(link(r.url, label, r.size,
        lesson.id + '-' + r.tier + ext));
    });
    (lesson.subtitles || []).forEach(function (s) {
      ul.appendChild(link(s.url, t('downloads.subtitles', { lang: langName(s.lang) }), s.size,
        lesson.id + '.' + s.lang + '.vtt'));
    });
    (lesson.handouts || []).forEach(function (h) {
      ul.appendChild(link(h.url, h.name, h.size, h.name));
    });
  }

  /* On a phone the chapters and a search hit's lesson start below or above
   * the picture: bring the whole player into view. */
  function scrollToPlayer() {
    var box = $('player');
    var r = box.getBoundingClientRect();
    var vh = window.innerHeight || document.documentElement.clientHeight;
    if (r.top >= 0 && r.bottom <= vh) return;
    box.scrollIntoView(r.height > vh || r.top < 0);
  }

  /* A lesson page with nothing of the last lesson left on it. */
  function showLessonBody(ok) {
    $('lesson-body').hidden = !ok;
    $('lesson-missing').hidden = ok;
    if (!ok) {
      $('lesson-title').textContent = t('errors.lesson');
      $('lesson-title').removeAttribute('lang');
      $('lesson-nosound').hidden = true;
      document.title = t('errors.lesson') + ' · ' + t('app.title');
    }
  }

  function showLesson(id, at) {
    showView('view-lesson');
    var same = state.player && state.player.lesson.id === id;
    if (same) {
      /* Same lesson (language switch or a search hit for it): keep playing. */
      renderLessonInfo(state.player.lesson);
      state.player.buildQualityMenu();
      state.player.showTier();
      var trs = $('video').querySelectorAll('track');
      for (var ti = 0; ti < trs.length; ti++) trs[ti].label = langName(trs[ti].srclang);
      var sel = $('captions-select');
      for (var i = 0; i < sel.options.length; i++) {
        var o = sel.options[i];
        o.textContent = o.value === 'off' ? t('captions.off') : o.value === 'ky+ru' ?
          t('captions.both', { a: langName('ky'), b: langName('ru') }) : langName(o.value);
      }
      if (at !== null) { state.player.seek(at, true); scrollToPlayer(); }
      return;
    }
    stopPlayer();
    $('lesson-body').hidden = true;
    $('lesson-missing').hidden = true;
    $('lesson-title').textContent = '';
    $('lesson-nosound').hidden = true;
    setStatus(t('catalog.loading'));
    getJSON('/api/lessons/' + encodeURIComponent(id)).then(function (lesson) {
      if (currentRoute().id !== id) return;
      setStatus('');
      state.lesson = lesson;
      showLessonBody(true);
      renderLessonInfo(lesson);
      var start = at;
      if (start === null) {
        var saved = parseFloat(storeGet(posKey(lesson)) || '');
        if (saved > 0 && (!lesson.duration || saved < lesson.duration - 3)) start = saved;
      }
      state.player = new Player(lesson, start);
      state.player.start();
      if (at !== null) scrollToPlayer();
    }, function () {
      if (currentRoute().id !== id) return;
      setStatus('');
      showLessonBody(false);
    });
  }

  function stopPlayer() {
    if (state.player) {
      state.player.stop();
      state.player = null;
    }
    hideHelp();
  }

  /* ---- help popover ----------------------------------------------------- */
  function showHelp() {
    $('help').hidden = false;
    $('help-button').setAttribute('aria-expanded', 'true');
    $('help-close').focus();
  }
  function hideHelp() {
    if ($('help').hidden) return;
    $('help').hidden = true;
    $('help-button').setAttribute('aria-expanded', 'false');
  }

  /* ---- keyboard --------------------------------------------------------- */
  function onKey(e) {
    var p = state.player;
    if (!p || $('view-lesson').hidden || e.ctrlKey || e.metaKey || e.altKey) return;
    var tag = e.target && e.target.tagName;
    if (tag === 'INPUT' || tag === 'SELECT' || tag === 'TEXTAREA') return;
    var k = e.key;
    /* Letters by their place on the keyboard (event.code), so that K is K
     * with the Russian or Kyrgyz layout on (where it types "л"). */
    var codes = { KeyK: 'k', KeyJ: 'j', KeyL: 'l', KeyF: 'f', KeyC: 'c' };
    if (e.code && codes[e.code]) k = codes[e.code];
    else if (e.code === 'Slash' && e.shiftKey) k = '?';
    /* Space on a button or link presses it; on the focused video the
     * browser's own controls already toggle playback. */
    var onButton = tag === 'BUTTON' || tag === 'A' || tag === 'VIDEO';
    if (k === 'Escape') { if (!$('help').hidden) { hideHelp(); $('help-button').focus(); } return; }
    var v = p.video;
    var handled = true;
    if ((k === ' ' || k === 'Spacebar') && !onButton) p.toggle();
    else if (k === 'k' || k === 'K') p.toggle();
    else if (k === 'ArrowLeft' || k === 'Left') p.seek(v.currentTime - 5, false);
    else if (k === 'ArrowRight' || k === 'Right') p.seek(v.currentTime + 5, false);
    else if (k === 'j' || k === 'J') p.seek(v.currentTime - 10, false);
    else if (k === 'l' || k === 'L') p.seek(v.currentTime + 10, false);
    else if (k === 'f' || k === 'F') toggleFullscreen();
    else if (k === 'c' || k === 'C') p.cycleCaptions();
    else if (k === '?') { if ($('help').hidden) showHelp(); else hideHelp(); }
    else handled = false;
    if (handled) e.preventDefault();
  }

  /* ---- routing ---------------------------------------------------------- */
  function currentRoute() {
    var h = location.hash || '#/';
    var m = /^#\/lesson\/([^?]+)(?:\?(.*))?$/.exec(h);
    if (!m) return { view: 'home', id: null, t: null };
    var at = null;
    if (m[2]) {
      var tm = /(?:^|&)t=([0-9.]+)/.exec(m[2]);
      if (tm) at = parseFloat(tm[1]);
    }
    var id;
    try { id = decodeURIComponent(m[1]); } catch (err) { id = m[1]; }
    return { view: 'lesson', id: id, t: isFinite(at) ? at : null };
  }

  function showView(id) {
    var views = document.querySelectorAll('.view');
    for (var i = 0; i < views.length; i++) views[i].hidden = views[i].id !== id;
  }

  var lastView = null;
  function route() {
    var r = currentRoute();
    if (r.view === 'lesson') {
      showLesson(r.id, r.t);
    } else {
      stopPlayer();
      showHome();
    }
    if (lastView !== null && lastView !== r.view) {
      window.scrollTo(0, 0);
      $('main').focus();
    }
    lastView = r.view;
  }

  /* ---- start ------------------------------------------------------------ */
  function wire() {
    $('lang-select').addEventListener('change', function (e) { switchLang(e.target.value); });
    $('search-input').addEventListener('input', onSearchInput);
    $('search-form').addEventListener('submit', function (e) {
      e.preventDefault();
      clearTimeout(state.searchTimer);
      runSearch($('search-input').value);
    });
    $('search-clear').addEventListener('click', function () {
      $('search-input').value = '';
      onSearchInput();
      $('search-input').focus();
    });
    $('quality-select').addEventListener('change', function (e) {
      if (state.player) state.player.setQuality(e.target.value);
    });
    $('quality-all').addEventListener('change', function (e) {
      var mode = state.player ? state.player.mode : 'auto';
      storeSet('quality', e.target.checked && mode !== 'auto' ? mode : null);
      if (state.player) state.player.showQualityAll();
    });
    $('stall-auto').addEventListener('click', function () {
      if (state.player) state.player.setQuality('auto');
      $('quality-select').focus();
    });
    /* "All lessons" means all of them: not the search left behind. */
    document.querySelector('#view-lesson .back').addEventListener('click', function () {
      clearTimeout(state.searchTimer);
      state.searchSeq++;
      $('search-input').value = '';
      $('search-clear').hidden = true;
      $('search-results').hidden = true;
      $('catalog').hidden = false;
    });
    $('speed-select').addEventListener('change', function (e) {
      var rate = parseFloat(e.target.value);
      storeSet('speed', rate);
      var v = $('video');
      v.defaultPlaybackRate = rate;
      v.playbackRate = rate;
    });
    $('captions-select').addEventListener('change', function (e) {
      if (state.player) state.player.setCaptions(e.target.value);
    });
    $('help-button').addEventListener('click', function () {
      if ($('help').hidden) showHelp(); else hideHelp();
    });
    $('help-close').addEventListener('click', function () { hideHelp(); $('help-button').focus(); });
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', route);
  }

  /* web/usage.js, once the first view is there: on a slow link its bytes
   * must not hold up the cards or the first frame (issue 11). */
  function loadUsage() {
    var meta = document.querySelector('meta[name="sabak-usage-js"]');
    if (!meta || window.SabakUsage) return;
    var s = document.createElement('script');
    s.src = meta.getAttribute('content');
    document.head.appendChild(s);
  }

  function start() {
    wire();
    if (document.readyState === 'complete') setTimeout(loadUsage, 0);
    else window.addEventListener('load', loadUsage);
    loadLang(initialLang()).then(route, function () {
      /* Without strings there is nothing sensible to show; try English once. */
      loadLang('en').then(route, function () { setStatus('…'); });
    });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
