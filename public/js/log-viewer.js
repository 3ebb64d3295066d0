// The log viewer (views/appservers/_log.ejs, docs/live-logs.md). The page renders the last lines;
// this script turns the box into a window over the whole log: the scrollbar spans every line from
// the first seq to the last, and only the lines in view (plus a margin) exist in the DOM, so a
// 1,000,000-line log costs what a screenful does, in either direction. Lines come from a cache
// keyed by seq, filled by the socket (new lines) and by log.json for whatever scrolls into view;
// lines far from view leave the cache. Jumps (start, line N, a task, the first failure, a search
// hit) set the scroll position and fetch that one screen. Search, the outline and the first
// failure are answered by the server (log/search.json, log/outline.json): a long log is never
// scanned here.
(function () {
  "use strict";
  if (window.OcimLogViewer) return;
  var LINE_PX = 18; // .log-line's height in ocim.css: every line is one row (no wrapping)
  // Browsers cap an element's height (Firefox near 17.9M px): past this the scrollbar is scaled.
  var MAX_SPACER_PX = 10000000;
  var OVERSCAN = 40; // lines rendered above and below the visible ones
  var FETCH_LINES = 1000; // lines asked for around what is in view (log.json allows up to 2,000)
  var CACHE_MAX = 20000; // lines kept; beyond, those farthest from view are dropped
  var BOTTOM_SLACK_PX = 4;
  var OUTLINE_REFRESH_MS = 5000;

  function Viewer(root) {
    this.root = root;
    this.id = Number(root.getAttribute("data-appserver-id"));
    this.firstSeq = Number(root.getAttribute("data-first-seq")) || 0;
    this.lastSeq = Number(root.getAttribute("data-last-seq")) || 0;
    this.finished = root.getAttribute("data-finished") === "true";
    this.growing = (root.getAttribute("data-growing-statuses") || "").split(" ");
    var q = function (sel) { return root.querySelector(sel); };
    this.box = q("[data-log-lines]");
    this.spacer = q("[data-log-spacer]");
    this.rows = q("[data-log-rows]");
    this.stateEl = q("[data-log-state]");
    this.countEl = q("[data-log-count]");
    this.newBtn = q("[data-log-new]");
    this.failureBtn = q("[data-log-first-failure]");
    this.outlineEl = q("[data-log-outline]");
    this.messageEl = q("[data-log-message]");
    this.searchState = q("[data-log-search-state]");
    this.searchForm = q("[data-log-search]");
    this.prevBtn = q("[data-log-prev]");
    this.nextBtn = q("[data-log-next]");
    this.emptyEl = q("[data-log-empty]");
    this.cache = new Map(); // seq → line, or null for a seq with no stored line (purged)
    this.fetching = false;
    this.following = true; // the newest line is in view and stays there as lines come
    this.seenSeq = this.lastSeq; // the last line the reader had in view before scrolling up
    this.target = 0; // the line a jump landed on (highlighted)
    this.search = null; // { q, hits: [{seq}], index, total, more }
    this.firstFailureSeq = null;
    this.outlineTimer = null;
    this.frame = 0;
    this.adoptRendered();
    q("[data-log-tools]").hidden = false;
  }

  /** The server-rendered tail becomes the cache's first lines. */
  Viewer.prototype.adoptRendered = function () {
    var nodes = this.rows.querySelectorAll(".log-line");
    for (var i = 0; i < nodes.length; i++) {
      var n = nodes[i];
      var level = (/level-(\w+)/.exec(n.className) || [])[1] || "info";
      var seq = Number(n.querySelector(".log-no").textContent);
      this.cache.set(seq, { seq: seq, level: level, at: n.querySelector(".log-time").getAttribute("datetime"), text: n.querySelector(".log-text").textContent });
    }
    this.layout();
    this.scrollToBottom();
    this.render();
  };

  Viewer.prototype.start = function () {
    var self = this;
    var socket = window.OcimLive.socket();
    socket.on("connect", function () { self.subscribe(socket); });
    socket.on("disconnect", function (reason) {
      if (self.finished) return;
      if (reason === "io server disconnect") self.setState("Disconnected: reload the page to log in again.", "error");
      else self.setState("Reconnecting…", "wait");
    });
    socket.on("connect_error", function (err) {
      if (err && err.message === "unauthenticated") return self.setState("Not logged in: reload the page to log in again.", "error");
      if (!self.finished) self.setState("Reconnecting…", "wait");
      // Refused by the server (not a network failure): socket.io does not retry those by itself.
      if (!socket.active) setTimeout(function () { socket.connect(); }, 5000);
    });
    socket.on("log", function (msg) {
      if (msg && msg.appServerId === self.id) self.receive(msg.lines);
    });
    document.addEventListener("ocim:status", function (e) {
      if (e.detail && e.detail.appServerId === self.id) self.statusChanged(e.detail.status);
    });
    this.box.addEventListener("scroll", function () { self.scrolled(); }, { passive: true });
    window.addEventListener("resize", function () { self.layout(); self.schedule(); });
    this.newBtn.addEventListener("click", function () { self.scrollToBottom(); self.schedule(); });
    this.root.querySelector("[data-log-start]").addEventListener("click", function () { self.jumpTo(self.firstSeq, "top"); });
    this.failureBtn.addEventListener("click", function () { if (self.firstFailureSeq) self.jumpTo(self.firstFailureSeq); });
    this.root.querySelector("[data-log-goto]").addEventListener("submit", function (e) {
      e.preventDefault();
      self.gotoLine(e.target.elements.line.value);
    });
    this.searchForm.addEventListener("submit", function (e) {
      e.preventDefault();
      self.find(e.target.elements.q.value);
    });
    // As a browser's find: Shift+Enter in the search box goes back a match (Enter, through find, on).
    this.searchForm.elements.q.addEventListener("keydown", function (e) {
      if (e.key !== "Enter" || !e.shiftKey) return;
      e.preventDefault();
      self.step(-1);
    });
    this.nextBtn.addEventListener("click", function () { self.step(1); });
    this.prevBtn.addEventListener("click", function () { self.step(-1); });
    this.outlineEl.addEventListener("click", function (e) {
      var link = e.target.closest("a[data-seq]");
      if (!link) return;
      e.preventDefault();
      self.jumpTo(Number(link.getAttribute("data-seq")), "top");
    });
    if (socket.connected) this.subscribe(socket);
    this.loadOutline();
  };

  Viewer.prototype.subscribe = function (socket) {
    var self = this;
    if (!this.finished) this.setState("Catching up…", "wait");
    socket.emit("subscribe", { appServerId: this.id, afterSeq: this.lastSeq }, function (reply) {
      if (!reply || reply.error) return self.setState((reply && reply.error.message) || "Could not follow this log.", "error");
      // Lines missed while away (or the tail, after a long absence: the gap is fetched when it
      // scrolls into view, like any other part of the log).
      self.receive(reply.lines);
      if (reply.status) window.OcimLive.dispatchStatus(reply.status);
      if (!self.finished) self.setState("Live", "live");
      // Back after an absence: what failed to load meanwhile (a screen of lines, the outline) loads now.
      if (self.subscribedBefore) {
        self.message("");
        self.loadOutline();
        self.schedule();
      }
      self.subscribedBefore = true;
    });
  };

  Viewer.prototype.statusChanged = function (status) {
    var finished = this.growing.indexOf(status) < 0;
    if (finished === this.finished) return;
    this.finished = finished;
    this.setState(finished ? "Finished" : "Live", finished ? "done" : "live");
    if (finished) this.loadOutline(); // the last task's duration is known now
  };

  /** Lines from the socket, in any order, possibly repeated or after a gap. */
  Viewer.prototype.receive = function (lines) {
    if (!lines || !lines.length) return;
    var header = false;
    for (var i = 0; i < lines.length; i++) {
      var l = lines[i];
      this.cache.set(l.seq, l);
      if (l.seq > this.lastSeq) this.lastSeq = l.seq;
      if (!this.firstSeq || l.seq < this.firstSeq) this.firstSeq = l.seq;
      if (l.level === "error" && (!this.firstFailureSeq || l.seq < this.firstFailureSeq)) this.setFirstFailure(l.seq);
      if (/^(PLAY|TASK|RUNNING HANDLER) \[/.test(l.text)) header = true;
    }
    if (header) this.scheduleOutline();
    this.emptyEl.hidden = true;
    var anchor = this.following ? null : this.topPosition();
    this.layout();
    if (this.following) this.scrollToBottom();
    else {
      this.box.scrollTop = anchor / this.scale; // the line at the top stays put under the reader
      this.showNewLines();
    }
    this.schedule();
  };

  // ---- geometry: seq ↔ scroll position ----

  Viewer.prototype.count = function () {
    return this.lastSeq ? this.lastSeq - this.firstSeq + 1 : 0;
  };

  /** Sizes the spacer for every line; past MAX_SPACER_PX one scrolled pixel is several lines. */
  Viewer.prototype.layout = function () {
    var full = this.count() * LINE_PX;
    var height = Math.min(full, MAX_SPACER_PX);
    var view = this.box.clientHeight;
    this.scale = full > height && height > view ? (full - view) / (height - view) : 1;
    this.spacer.style.height = height + "px";
    this.countEl.textContent = this.count() ? this.count().toLocaleString("en") + " lines" : "";
  };

  /** The top of the view in line pixels (0 = top of the first line). */
  Viewer.prototype.topPosition = function () {
    return this.box.scrollTop * this.scale;
  };

  Viewer.prototype.atBottom = function () {
    var box = this.box;
    return box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
  };

  Viewer.prototype.scrollToBottom = function () {
    this.following = true;
    this.box.scrollTop = this.box.scrollHeight;
    this.seenSeq = this.lastSeq;
    this.newBtn.hidden = true;
  };

  Viewer.prototype.scrolled = function () {
    var bottom = this.atBottom();
    if (bottom && !this.following) this.scrollToBottom();
    else if (!bottom && this.following) {
      this.following = false;
      this.seenSeq = this.lastSeq;
    }
    this.schedule();
  };

  Viewer.prototype.showNewLines = function () {
    var n = this.lastSeq - this.seenSeq;
    this.newBtn.hidden = n <= 0;
    this.newBtn.textContent = n.toLocaleString("en") + (n === 1 ? " new line" : " new lines");
  };

  /** Puts a line in view: at the top ("top") or in the middle, marked as the target. */
  Viewer.prototype.jumpTo = function (seq, where) {
    this.message(""); // a jump that lands answers an earlier complaint ("Give a line number…")
    seq = Math.max(this.firstSeq, Math.min(this.lastSeq, seq));
    var rows = Math.floor(this.box.clientHeight / LINE_PX);
    var index = seq - this.firstSeq - (where === "top" ? 0 : Math.floor(rows / 2));
    this.target = seq;
    this.following = false;
    this.seenSeq = this.lastSeq;
    this.box.scrollTop = Math.max(0, index * LINE_PX) / this.scale;
    if (this.atBottom()) this.scrollToBottom();
    this.render();
  };

  Viewer.prototype.gotoLine = function (value) {
    var text = String(value).trim().replace(/,/g, "");
    var n = Number(text);
    if (!/^\d+$/.test(text) || n < this.firstSeq || n > this.lastSeq) {
      return this.message(this.count() ? "Give a line number from " + this.firstSeq.toLocaleString("en") + " to " + this.lastSeq.toLocaleString("en") + "." : "The log has no lines yet.", "error");
    }
    this.message("");
    this.jumpTo(n);
  };

  // ---- rendering the window ----

  Viewer.prototype.schedule = function () {
    var self = this;
    if (this.frame) return;
    this.frame = requestAnimationFrame(function () { self.frame = 0; self.render(); });
  };

  Viewer.prototype.render = function () {
    if (this.frame) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    var count = this.count();
    if (!count) return;
    var top = this.topPosition();
    var firstIndex = Math.floor(top / LINE_PX);
    var visible = Math.ceil(this.box.clientHeight / LINE_PX) + 1;
    var from = Math.max(0, firstIndex - OVERSCAN);
    var to = Math.min(count - 1, firstIndex + visible + OVERSCAN);
    if (this.firstSeq !== this.shownFirstSeq) this.shown = null; // the log's start moved: indexes did
    this.shownFirstSeq = this.firstSeq;
    // Where line `from` sits in the spacer: scrolled pixels, less how far into the lines it is.
    this.rows.style.transform = "translateY(" + (this.box.scrollTop - (top - from * LINE_PX)) + "px)";
    // Rows already in the page are kept (a scroll of a few lines moves most of them, it does not
    // rebuild them); a row is made anew only when its line, mark or highlight changed.
    var kept = this.shown || new Map();
    var shown = new Map();
    var nodes = [];
    var changed = from !== this.shownFrom || to !== this.shownTo;
    var missing = 0;
    for (var i = from; i <= to; i++) {
      var seq = this.firstSeq + i;
      var line = this.cache.get(seq);
      if (line === undefined) missing = missing || seq;
      var key = (seq === this.target ? "t" : "") + (this.search && this.search.current === seq ? "c" : "") + (this.search ? this.search.q : "");
      var node = kept.get(seq);
      if (!node || node.ocimLine !== line || node.ocimKey !== key) {
        node = this.node(seq, line);
        node.ocimLine = line;
        node.ocimKey = key;
        changed = true;
      }
      shown.set(seq, node);
      nodes.push(node);
    }
    if (changed) this.rows.replaceChildren.apply(this.rows, nodes);
    this.shown = shown;
    this.shownFrom = from;
    this.shownTo = to;
    // Trimmed on every render, fetching or not: a reader scrolling fast keeps the page fetching, and
    // the cache must stay bounded meanwhile too (at most CACHE_MAX plus one fetch).
    this.trimCache(this.firstSeq + firstIndex);
    if (missing) this.fetchAround(missing, this.firstSeq + to);
  };

  Viewer.prototype.node = function (seq, line) {
    var div = document.createElement("div");
    div.className = "log-line level-" + (line ? line.level : "missing") + (seq === this.target ? " log-target" : "") +
      (this.search && this.search.current === seq ? " log-current" : "");
    div.setAttribute("data-seq", String(seq));
    var no = document.createElement("span");
    no.className = "log-no";
    no.textContent = String(seq);
    div.appendChild(no);
    var time = document.createElement("time");
    time.className = "log-time";
    var text = document.createElement("span");
    text.className = "log-text";
    if (line) {
      time.setAttribute("datetime", line.at);
      time.title = line.at;
      time.textContent = line.at.slice(11, 19);
      this.fillText(text, line.text);
    } else if (line === undefined) {
      text.textContent = "…";
    }
    div.appendChild(time);
    div.appendChild(text);
    return div;
  };

  /** The line's text, with the searched text marked. */
  Viewer.prototype.fillText = function (el, text) {
    var q = this.search && this.search.q.toLowerCase();
    var at = q ? text.toLowerCase().indexOf(q) : -1;
    if (at < 0) return void (el.textContent = text);
    var from = 0;
    var lower = text.toLowerCase();
    while (at >= 0) {
      el.appendChild(document.createTextNode(text.slice(from, at)));
      var mark = document.createElement("mark");
      mark.textContent = text.slice(at, at + q.length);
      el.appendChild(mark);
      from = at + q.length;
      at = lower.indexOf(q, from);
    }
    el.appendChild(document.createTextNode(text.slice(from)));
  };

  /** Fetches the stored lines from `seq` on (one request at a time; the next render asks again). */
  Viewer.prototype.fetchAround = function (seq, lastShown) {
    if (this.fetching) return;
    this.fetching = true;
    var self = this;
    var after = Math.max(this.firstSeq, seq - Math.floor(FETCH_LINES / 4)) - 1;
    var limit = Math.max(FETCH_LINES, lastShown - after);
    this.fetchJson("log.json?after=" + after + "&limit=" + Math.min(limit, 2000)).then(function (page) {
      self.fetching = false;
      var lines = page.lines;
      for (var i = 0; i < lines.length; i++) self.cache.set(lines[i].seq, lines[i]);
      // Seqs in the range read that came back without a line have none (purged): shown empty.
      var end = page.more ? (lines.length ? lines[lines.length - 1].seq : after) : Math.min(self.lastSeq, after + limit);
      for (var s = after + 1; s <= end; s++) if (!self.cache.has(s)) self.cache.set(s, null);
      self.schedule();
    }, function (err) {
      self.fetching = false;
      self.message(err.message, "error");
    });
  };

  Viewer.prototype.trimCache = function (topSeq) {
    if (this.cache.size <= CACHE_MAX) return;
    var keep = CACHE_MAX / 4; // well under the cap after a trim: the next is 10,000 lines away
    var self = this;
    this.cache.forEach(function (_, seq) {
      if (Math.abs(seq - topSeq) > keep && seq < self.lastSeq - 500) self.cache.delete(seq);
    });
  };

  // ---- search, outline, first failure ----

  Viewer.prototype.find = function (value) {
    var q = String(value).trim();
    if (!q) return this.message("Type the text to search for.", "error");
    // The same text again (Enter in the box once more): the next match, not the first one again.
    if (this.search && this.search.q === q && this.search.hits.length) return this.step(1);
    var self = this;
    this.message("");
    this.searchState.textContent = "Searching…";
    this.fetchJson("log/search.json?count=1&limit=100&q=" + encodeURIComponent(q)).then(function (found) {
      self.search = { q: q, hits: found.hits, more: found.more, total: found.total, capped: found.totalCapped, index: 0, current: 0 };
      if (!found.hits.length) {
        self.searchState.textContent = "No matches";
        self.updateSearchButtons();
        return self.render();
      }
      self.showHit(0);
    }, function (err) {
      self.searchState.textContent = "";
      self.message(err.message, "error");
    });
  };

  Viewer.prototype.step = function (delta) {
    var s = this.search;
    if (!s) return;
    var index = s.index + delta;
    if (index < 0) return;
    if (index < s.hits.length) return this.showHit(index);
    if (!s.more) return;
    var self = this;
    this.fetchJson("log/search.json?limit=100&q=" + encodeURIComponent(s.q) + "&after=" + s.hits[s.hits.length - 1].seq).then(function (found) {
      s.hits = s.hits.concat(found.hits);
      s.more = found.more;
      if (index < s.hits.length) self.showHit(index);
    }, function (err) { self.message(err.message, "error"); });
  };

  Viewer.prototype.showHit = function (index) {
    var s = this.search;
    s.index = index;
    s.current = s.hits[index].seq;
    this.searchState.textContent = (index + 1).toLocaleString("en") + " of " + s.total.toLocaleString("en") + (s.capped ? "+" : "") +
      " · line " + s.current.toLocaleString("en");
    this.updateSearchButtons();
    this.jumpTo(s.current);
  };

  Viewer.prototype.updateSearchButtons = function () {
    var s = this.search;
    var focused = document.activeElement;
    this.prevBtn.disabled = !s || s.index <= 0;
    this.nextBtn.disabled = !s || !(s.index + 1 < s.hits.length || s.more);
    // A disabled button loses the focus to the page: it goes back to the search box instead.
    if ((focused === this.prevBtn || focused === this.nextBtn) && focused.disabled) this.searchForm.elements.q.focus();
  };

  Viewer.prototype.setFirstFailure = function (seq) {
    this.firstFailureSeq = seq;
    this.failureBtn.hidden = false;
    this.failureBtn.title = "Line " + seq.toLocaleString("en");
  };

  Viewer.prototype.scheduleOutline = function () {
    var self = this;
    if (this.outlineTimer) return;
    this.outlineTimer = setTimeout(function () { self.outlineTimer = null; self.loadOutline(); }, OUTLINE_REFRESH_MS);
  };

  Viewer.prototype.loadOutline = function () {
    var self = this;
    this.fetchJson("log/outline.json").then(function (outline) {
      if (outline.firstFailureSeq) self.setFirstFailure(outline.firstFailureSeq);
      self.renderOutline(outline);
    }, function (err) { self.message(err.message, "error"); });
  };

  Viewer.prototype.renderOutline = function (outline) {
    var el = this.outlineEl;
    var open = {};
    el.querySelectorAll("details").forEach(function (d) { open[d.getAttribute("data-seq")] = d.open; });
    el.textContent = "";
    el.hidden = !outline.plays.length;
    outline.plays.forEach(function (play) {
      var details = document.createElement("details");
      details.setAttribute("data-seq", String(play.seq));
      details.open = open[play.seq] !== undefined ? open[play.seq] : play.failed || outline.plays.length === 1;
      var summary = document.createElement("summary");
      summary.appendChild(outlineItem(play, "Play " + (play.name || "(unnamed)")));
      details.appendChild(summary);
      var list = document.createElement("ol");
      play.tasks.forEach(function (task) {
        var li = document.createElement("li");
        li.appendChild(outlineItem(task, (task.handler ? "Handler " : "") + task.name));
        list.appendChild(li);
      });
      details.appendChild(list);
      el.appendChild(details);
    });
    if (outline.truncated) {
      var note = document.createElement("p");
      note.className = "muted";
      note.textContent = "The outline stops at its first 20,000 headers.";
      el.appendChild(note);
    }
  };

  function outlineItem(item, label) {
    var span = document.createElement("span");
    span.className = "log-outline-item" + (item.failed ? " log-outline-failed" : "");
    var a = document.createElement("a");
    a.href = "#line-" + item.seq;
    a.setAttribute("data-seq", String(item.seq));
    a.textContent = label;
    span.appendChild(a);
    var d = document.createElement("span");
    d.className = "log-duration";
    d.textContent = item.durationMs === null ? "running" : duration(item.durationMs);
    span.appendChild(d);
    return span;
  }

  // As the server's h.duration (src/web/view-helpers.ts): the outline and the page's steps agree.
  function duration(ms) {
    if (ms < 1000) return Math.max(0, Math.round(ms)) + " ms";
    var s = Math.floor(ms / 1000);
    if (s < 60) return s + " s";
    if (s < 3600) return Math.floor(s / 60) + " min " + twoDigits(s % 60) + " s";
    return Math.floor(s / 3600) + " h " + twoDigits(Math.floor(s / 60) % 60) + " min";
  }

  function twoDigits(n) {
    return (n < 10 ? "0" : "") + n;
  }

  // ---- plumbing ----

  Viewer.prototype.fetchJson = function (path) {
    return fetch("/appservers/" + this.id + "/" + path, { headers: { accept: "application/json" }, credentials: "same-origin" })
      // The browser's own words ("Failed to fetch") say nothing to a person; the socket's
      // reconnection takes this message back and loads what is in view again (subscribe).
      .catch(function () { throw new Error("The console is not reachable: this part of the log loads once it answers again."); })
      .then(function (res) {
        var type = res.headers.get("content-type") || "";
        if (type.indexOf("application/json") < 0) throw new Error("Your session has expired: reload the page to log in again.");
        return res.json().then(function (body) {
          if (!res.ok) throw new Error((body.error && body.error.message) || "Could not load the log.");
          return body;
        });
      });
  };

  Viewer.prototype.setState = function (text, kind) {
    this.stateEl.textContent = text;
    this.stateEl.className = "log-state log-state-" + kind;
  };

  Viewer.prototype.message = function (text, kind) {
    this.messageEl.hidden = !text;
    this.messageEl.textContent = text;
    this.messageEl.className = "log-message" + (kind ? " log-message-" + kind : "");
  };

  var viewers = [];
  document.querySelectorAll("[data-log-viewer]").forEach(function (root) {
    var viewer = new Viewer(root);
    viewers.push(viewer);
    viewer.start();
  });
  window.OcimLogViewer = { viewers: viewers };
})();
