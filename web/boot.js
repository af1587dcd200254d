/* sabak web pages, first of all (issue 11: the first page on a slow link).
 *
 * SabakBoot.initialLang(): the saved UI language (localStorage "sabak.lang"),
 * else the browser's first of ky/ru/en, else ky. Used by app.js and the
 * admin pages (web/admin/admin.js).
 *
 * On the kiosk app's page (/), loaded first in the head, needing nothing
 * else, and long before app.js (the biggest script) has arrived: asks at once for what the first view
 * needs, the UI strings of the page's language and either the catalog or the
 * lesson named in the address, so that they travel alongside the scripts
 * instead of one round trip after another once app.js runs. The kiosk's CSP
 * allows no inline script, hence a file of its own; the language is not
 * known to the server (it is saved in the browser), hence no preload hint.
 *
 * SabakBoot.take(url) hands app.js the response promise of such a request,
 * once (a body can be read only once), or null: app.js then fetches itself. */
var SabakBoot = (function () {
  'use strict';
  var LANGS = ['ky', 'ru', 'en'];
  var early = {};

  function initialLang() {
    var saved = null;
    try { saved = window.localStorage.getItem('sabak.lang'); } catch (e) { saved = null; }
    if (saved && LANGS.indexOf(saved) >= 0) return saved;
    var list = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || ''];
    for (var i = 0; i < list.length; i++) {
      var code = String(list[i] || '').toLowerCase().split('-')[0];
      if (LANGS.indexOf(code) >= 0) return code;
    }
    return 'ky';
  }

  function ask(url) {
    early[url] = fetch(url, { credentials: 'same-origin' });
    /* Not taken (app.js failed to load): no "unhandled rejection". */
    early[url].catch(function () {});
  }

  var path = location.pathname;
  if (window.fetch && (path === '/' || path === '/index.html')) {
    var lang = initialLang();
    ask('/i18n/' + lang + '.json');
    /* The same parsing as app.js's currentRoute(). */
    var m = /^#\/lesson\/([^?]+)(?:\?.*)?$/.exec(location.hash || '#/');
    if (m) {
      var id;
      try { id = decodeURIComponent(m[1]); } catch (err) { id = m[1]; }
      ask('/api/lessons/' + encodeURIComponent(id));
    } else {
      ask('/api/lessons?lang=' + lang);
    }
  }

  return {
    initialLang: initialLang,
    take: function (url) {
      var p = early[url] || null;
      delete early[url];
      return p;
    }
  };
})();
