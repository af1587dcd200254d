/* sabak kiosk web app: play reports (POST /api/plays).
 *
 * A play is counted after 10 s of real playback (wall-clock time while the
 * video plays, so a faster playbackRate does not count sooner, and seeking
 * counts nothing); the seconds watched are reported too. Nothing about the
 * viewer is sent: only lesson ids and numbers.
 *
 * Weak WiFi: events wait in localStorage (bounded) and are sent in batches
 * of at most 32; a failed send is put back and retried every 30 s, when the
 * browser comes back online, and when the page is left (fetch keepalive).
 * A 4xx answer drops the batch (the kiosk will never take it). */
var SabakUsage = (function () {
  'use strict';

  var KEY = 'sabak.plays';
  var PLAY_AFTER = 10;   /* seconds of playback that make a play */
  var MAX_EVENT = 600;   /* seconds in one event (the kiosk's limit) */
  var MAX_QUEUE = 200;   /* events kept while the kiosk cannot be reached */
  var BATCH = 32;
  var sending = false;
  var timer = 0;

  function load() {
    try {
      var q = JSON.parse(window.localStorage.getItem(KEY) || '[]');
      return Array.isArray(q) ? q : [];
    } catch (e) { return []; }
  }

  function store(q) {
    try { window.localStorage.setItem(KEY, JSON.stringify(q.slice(-MAX_QUEUE))); } catch (e) { /* full */ }
  }

  function add(lesson, play, seconds) {
    seconds = Math.round(Math.max(0, seconds) * 10) / 10;
    if (!play && seconds <= 0) return;
    var q = load();
    var last = q.length ? q[q.length - 1] : null;
    if (last && last.lesson === lesson && last.seconds + seconds <= MAX_EVENT && !(play && last.play)) {
      last.seconds = Math.round((last.seconds + seconds) * 10) / 10;
      if (play) last.play = 1;
    } else {
      while (seconds > MAX_EVENT) {
        q.push({ lesson: lesson, play: 0, seconds: MAX_EVENT });
        seconds -= MAX_EVENT;
      }
      q.push({ lesson: lesson, play: play ? 1 : 0, seconds: seconds });
    }
    store(q);
  }

  function flush(leaving) {
    if (sending) return;
    var q = load();
    if (!q.length) return;
    var batch = q.slice(0, BATCH);
    store(q.slice(BATCH));
    var body = JSON.stringify({ events: batch });
    var putBack = function () { store(batch.concat(load())); };
    sending = true;
    var p;
    try {
      p = window.fetch('/api/plays', { method: 'POST', body: body, keepalive: true,
        headers: { 'Content-Type': 'application/json' }, cache: 'no-store' });
    } catch (e) {
      sending = false;
      putBack();
      return;
    }
    p.then(function (r) {
      sending = false;
      if (r.status >= 500 || r.status === 408 || r.status === 429) putBack();
      else if (load().length && !leaving) flush(false);
    }, function () {
      sending = false;
      if (!leaving) putBack();
    });
  }

  function startTimer() {
    if (timer) return;
    timer = setInterval(function () { flush(false); }, 30000);
    window.addEventListener('online', function () { flush(false); });
    flush(false);
  }

  /* Watch one playback of `lessonId` in `video`; call tick() on timeupdate,
   * pause, waiting and ended, and end() when the player goes away. */
  function Watch(video, lessonId) {
    this.video = video;
    this.id = lessonId;
    this.total = 0;      /* seconds played, for the 10 s rule */
    this.pending = 0;    /* seconds not reported yet */
    this.counted = false;
    this.last = null;    /* performance.now() of the last tick while playing */
    startTimer();
  }

  Watch.prototype.tick = function () {
    var v = this.video;
    var now = window.performance.now() / 1000;
    if (this.last !== null) {
      var dt = now - this.last;
      if (dt > 0 && dt < 2) { this.total += dt; this.pending += dt; }
    }
    this.last = (!v.paused && !v.ended && !v.seeking && v.readyState >= 3) ? now : null;
    if (!this.counted && this.total >= PLAY_AFTER) {
      this.counted = true;
      add(this.id, true, this.pending);
      this.pending = 0;
      flush(false);
    } else if (this.pending >= 60) {
      add(this.id, false, this.pending);
      this.pending = 0;
    }
  };

  /* Report what is left (pause, leaving the lesson or the page). */
  Watch.prototype.end = function (leaving) {
    this.tick();
    this.last = null;
    if (this.pending >= 1) add(this.id, false, this.pending);
    this.pending = 0;
    flush(!!leaving);
  };

  return { Watch: Watch, flush: flush };
}());
