/* sabak web helpers shared by the kiosk app (web/app.js, served as
 * /static/common.js) and the offline player (web/offline/player.html, into
 * which `sabak pack` inlines this file: keep it free of the two characters
 * "<" "/" together, and of any request). Plain ES2017, no modules.
 *
 * SabakCommon.create(getLang, getDict) returns the helpers bound to the
 * page's current language and its strings ({"units": {...}, ...}):
 *   t(key, vars)    the string at a dotted key, {name} filled from vars;
 *                   a missing key gives the key itself (visible, so a gap
 *                   is noticed, and the browser tests check none is used)
 *   has(key)        whether the key exists
 *   langName(code)  "Кыргызча" for "ky", the code itself if unknown
 *   pick(obj)       {text, lang} of a {ky,ru,en} object: UI language
 *                   first, then ky, ru, en, then any other
 *   fmtTime(s)      "1:05", "1:02:03"
 *   fmtNumber(x, d) with the language's decimal mark
 *   fmtSize(bytes)  "12 KB" / "3,4 MB" / "1,2 GB" in the language
 * SabakCommon.parseVTT(text) -> [{start, end, text}] (seconds).
 * SabakCommon.applyI18n(root, t)  fill every [data-i18n] element's text
 *                   and the attributes its data-i18n-attr names
 *                   ("attr:key;attr:key"); the kiosk app and the admin
 *                   pages (the language they start in: web/boot.js). */
var SabakCommon = (function () {
  'use strict';
  var LANGS = ['ky', 'ru', 'en'];

  function lookup(dict, key) {
    var parts = key.split('.');
    var v = dict;
    for (var i = 0; i < parts.length && v !== undefined && v !== null; i++) v = v[parts[i]];
    return typeof v === 'string' ? v : null;
  }

  function fill(s, vars) {
    if (!vars) return s;
    return s.replace(/\{(\w+)\}/g, function (m, name) {
      return Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : m;
    });
  }

  function pad2(n) { return (n < 10 ? '0' : '') + n; }

  function create(getLang, getDict) {
    function t(key, vars) {
      var v = lookup(getDict() || {}, key);
      return v === null ? key : fill(v, vars);
    }
    function has(key) { return lookup(getDict() || {}, key) !== null; }
    function langName(code) { return has('langs.' + code) ? t('langs.' + code) : code; }
    function pick(obj) {
      var lang = getLang();
      if (!obj) return { text: '', lang: lang };
      var order = [lang].concat(LANGS);
      for (var i = 0; i < order.length; i++) {
        if (typeof obj[order[i]] === 'string' && obj[order[i]] !== '') return { text: obj[order[i]], lang: order[i] };
      }
      for (var k in obj) {
        if (typeof obj[k] === 'string' && obj[k] !== '') return { text: obj[k], lang: k };
      }
      return { text: '', lang: lang };
    }
    function fmtTime(sec) {
      sec = Math.max(0, Math.floor(sec || 0));
      var h = Math.floor(sec / 3600);
      var m = Math.floor((sec % 3600) / 60);
      var s = sec % 60;
      return h > 0 ? h + ':' + pad2(m) + ':' + pad2(s) : m + ':' + pad2(s);
    }
    function fmtNumber(x, digits) {
      return x.toFixed(digits).replace('.', has('units.decimal') ? t('units.decimal') : '.');
    }
    function fmtSize(bytes) {
      if (!(bytes >= 0)) return '';
      if (bytes < 1024 * 1024) return t('units.kb', { n: fmtNumber(Math.max(1, Math.round(bytes / 1024)), 0) });
      var mb = bytes / (1024 * 1024);
      if (mb < 1024) return t('units.mb', { n: fmtNumber(mb, mb < 10 ? 1 : 0) });
      return t('units.gb', { n: fmtNumber(mb / 1024, 1) });
    }
    return { t: t, has: has, langName: langName, pick: pick, fmtTime: fmtTime, fmtNumber: fmtNumber, fmtSize: fmtSize };
  }

  /* WebVTT: the cue blocks of a file, enough for sabak's own output
   * (timings, optional cue ids, settings ignored, NOTE/STYLE/REGION skipped). */
  function parseTime(s) {
    var mt = /^(?:(\d+):)?(\d{1,2}):(\d{2})[.,](\d{1,3})$/.exec(s.trim());
    if (!mt) return NaN;
    return (parseInt(mt[1] || '0', 10) * 3600) + parseInt(mt[2], 10) * 60 + parseInt(mt[3], 10) +
      parseInt((mt[4] + '00').slice(0, 3), 10) / 1000;
  }
  function parseVTT(text) {
    var cues = [];
    var blocks = String(text).replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n').split(/\n{2,}/);
    for (var b = 0; b < blocks.length; b++) {
      var lines = blocks[b].split('\n');
      var i = 0;
      while (i < lines.length && lines[i] === '') i++;
      if (i >= lines.length) continue;
      if (/^(WEBVTT|NOTE|STYLE|REGION)\b/.test(lines[i])) continue;
      if (lines[i].indexOf('-->') < 0) i++;               /* cue identifier */
      if (i >= lines.length || lines[i].indexOf('-->') < 0) continue;
      var parts = lines[i].split('-->');
      var start = parseTime(parts[0]);
      var end = parseTime(parts[1].trim().split(/\s+/)[0]);
      if (!(end > start)) continue;
      var body = lines.slice(i + 1).join('\n').replace(/\s+$/, '');
      if (body) cues.push({ start: start, end: end, text: body });
    }
    return cues;
  }

  function applyI18n(root, t) {
    var nodes = root.querySelectorAll('[data-i18n]');
    var i;
    for (i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute('data-i18n'));
    nodes = root.querySelectorAll('[data-i18n-attr]');
    for (i = 0; i < nodes.length; i++) {
      var pairs = nodes[i].getAttribute('data-i18n-attr').split(';');
      for (var j = 0; j < pairs.length; j++) {
        var kv = pairs[j].split(':');
        if (kv.length === 2) nodes[i].setAttribute(kv[0], t(kv[1]));
      }
    }
  }

  return { LANGS: LANGS, create: create, parseVTT: parseVTT, applyI18n: applyI18n };
})();
