// The live log viewer (views/appservers/_log.ejs). The page renders the last lines; this script
// subscribes from the last seq it has and appends what streams in, in seq order, with no gap and
// no duplicate: a seq at or below the last one shown is dropped, a line that arrives ahead of a
// gap waits until the missing range has been fetched. The DOM holds a window of at most
// MAX_LINES contiguous lines: older ones leave from the top ("Load earlier lines" brings them
// back), and while the reader is scrolled up the window stops growing ("Jump to latest").
(function () {
  "use strict";
  if (window.OcimLogViewer) return;
  var MAX_LINES = 2000;
  var EARLIER_PAGE = 500;
  var TAIL_LINES = 500;
  var BOTTOM_SLACK_PX = 24;

  function Viewer(root) {
    this.root = root;
    this.id = Number(root.getAttribute("data-appserver-id"));
    this.lastSeq = Number(root.getAttribute("data-last-seq")) || 0;
    this.firstSeq = Number(root.getAttribute("data-first-seq")) || 0;
    this.box = root.querySelector("[data-log-lines]");
    this.stateEl = root.querySelector("[data-log-state]");
    this.earlierBtn = root.querySelector("[data-log-earlier]");
    this.latestBtn = root.querySelector("[data-log-latest]");
    this.emptyEl = root.querySelector("[data-log-empty]");
    this.pending = new Map(); // seq → line that came ahead of a gap
    this.ready = false; // subscribed and caught up: a gap may be fetched
    this.filling = false;
    this.held = false; // the reader is scrolled up and the window is full
    this.box.scrollTop = this.box.scrollHeight;
  }

  Viewer.prototype.start = function () {
    var self = this;
    var socket = window.OcimLive.socket();
    socket.on("connect", function () { self.subscribe(socket); });
    socket.on("disconnect", function (reason) {
      self.ready = false;
      if (reason === "io server disconnect") self.setState("Disconnected: reload the page to log in again.", "error");
      else self.setState("Reconnecting…", "wait");
    });
    socket.on("connect_error", function (err) {
      if (err && err.message === "unauthenticated") return self.setState("Not logged in: reload the page to log in again.", "error");
      self.setState("Reconnecting…", "wait");
      // Refused by the server (not a network failure): socket.io does not retry those by itself.
      if (!socket.active) setTimeout(function () { socket.connect(); }, 5000);
    });
    socket.on("log", function (msg) {
      if (msg && msg.appServerId === self.id) self.receive(msg.lines);
    });
    this.earlierBtn.addEventListener("click", function () { self.loadEarlier(); });
    this.latestBtn.addEventListener("click", function () { self.resume(); });
    this.box.addEventListener("scroll", function () {
      if (self.held && self.atBottom()) self.resume();
    });
    if (socket.connected) this.subscribe(socket);
  };

  Viewer.prototype.subscribe = function (socket) {
    var self = this;
    this.ready = false;
    this.setState("Catching up…", "wait");
    socket.emit("subscribe", { appServerId: this.id, afterSeq: this.lastSeq }, function (reply) {
      if (!reply || reply.error) return self.setState((reply && reply.error.message) || "Could not follow this log.", "error");
      if (reply.status) window.OcimLive.dispatchStatus(reply.status);
      if (reply.reset) self.showTail(reply.lines, reply.more);
      else self.receive(reply.lines);
      self.ready = true;
      self.setState("Live", "live");
      if (self.pending.size) self.fillGap();
    });
  };

  /** Lines from the socket or a fetch, in any order, possibly repeated. */
  Viewer.prototype.receive = function (lines) {
    if (this.held) return; // "Jump to latest" fetches them
    for (var i = 0; i < lines.length; i++) {
      if (lines[i].seq > this.lastSeq) this.pending.set(lines[i].seq, lines[i]);
    }
    var follow = this.atBottom();
    var room = follow ? Infinity : MAX_LINES - this.box.childElementCount;
    var ready = [];
    while (this.pending.has(this.lastSeq + 1)) {
      if (ready.length >= room) {
        this.hold();
        break;
      }
      var next = this.pending.get(this.lastSeq + 1);
      this.pending.delete(this.lastSeq + 1);
      this.lastSeq = next.seq;
      ready.push(next);
    }
    if (ready.length) this.append(ready, follow);
    if (this.held) this.pending.clear();
    else if (this.pending.size && this.ready) this.fillGap();
  };

  Viewer.prototype.append = function (lines, follow) {
    if (lines.length >= MAX_LINES) {
      this.box.textContent = "";
      lines = lines.slice(-MAX_LINES);
    }
    this.box.appendChild(nodesFor(lines));
    this.emptyEl.hidden = true;
    if (!follow) return;
    var excess = this.box.childElementCount - MAX_LINES;
    while (excess-- > 0) this.box.removeChild(this.box.firstElementChild);
    this.firstSeq = Number(this.box.firstElementChild.getAttribute("data-seq"));
    if (this.firstSeq > 1) this.earlierBtn.hidden = false;
    this.box.scrollTop = this.box.scrollHeight;
  };

  /** Fetches the lines between the last one shown and those waiting; a long gap restarts from the tail. */
  Viewer.prototype.fillGap = function () {
    if (this.filling) return;
    this.filling = true;
    var self = this;
    var from = this.lastSeq;
    this.fetchLog("after=" + from + "&limit=" + MAX_LINES).then(function (page) {
      self.filling = false;
      if (page.more) return self.restartFromTail();
      // Nothing stored in between (purged): continue from what is there rather than wait forever.
      if (!page.lines.length && self.pending.size) self.lastSeq = Math.min.apply(null, Array.from(self.pending.keys())) - 1;
      self.receive(page.lines);
    }, function (err) {
      self.filling = false;
      self.setState(err.message, "error");
    });
  };

  Viewer.prototype.restartFromTail = function () {
    var self = this;
    return this.fetchLog("limit=" + TAIL_LINES).then(function (page) {
      self.showTail(page.lines, page.more);
    }, function (err) { self.setState(err.message, "error"); });
  };

  Viewer.prototype.showTail = function (lines, more) {
    this.box.textContent = "";
    this.pending.clear();
    this.held = false;
    this.latestBtn.hidden = true;
    this.lastSeq = lines.length ? lines[lines.length - 1].seq : this.lastSeq;
    this.firstSeq = lines.length ? lines[0].seq : this.lastSeq + 1;
    this.box.appendChild(nodesFor(lines));
    this.earlierBtn.hidden = !more;
    this.emptyEl.hidden = this.box.childElementCount > 0;
    this.box.scrollTop = this.box.scrollHeight;
  };

  Viewer.prototype.hold = function () {
    this.held = true;
    this.latestBtn.hidden = false;
  };

  Viewer.prototype.resume = function () {
    this.held = false;
    this.latestBtn.hidden = true;
    this.box.scrollTop = this.box.scrollHeight;
    this.fillGap();
  };

  Viewer.prototype.loadEarlier = function () {
    var self = this;
    var btn = this.earlierBtn;
    btn.disabled = true;
    this.fetchLog("before=" + this.firstSeq + "&limit=" + EARLIER_PAGE).then(function (page) {
      btn.disabled = false;
      if (page.lines.length) {
        var height = self.box.scrollHeight;
        self.box.insertBefore(nodesFor(page.lines), self.box.firstChild);
        self.firstSeq = page.lines[0].seq;
        // Keep the line the reader was looking at where it was.
        self.box.scrollTop += self.box.scrollHeight - height;
      }
      btn.hidden = !page.more;
    }, function (err) {
      btn.disabled = false;
      self.setState(err.message, "error");
    });
  };

  Viewer.prototype.fetchLog = function (query) {
    return fetch("/appservers/" + this.id + "/log.json?" + query, { headers: { accept: "application/json" }, credentials: "same-origin" })
      .then(function (res) {
        var type = res.headers.get("content-type") || "";
        if (type.indexOf("application/json") < 0) throw new Error("Your session has expired: reload the page to log in again.");
        return res.json().then(function (body) {
          if (!res.ok) throw new Error((body.error && body.error.message) || "Could not load the log.");
          return body;
        });
      });
  };

  Viewer.prototype.atBottom = function () {
    var box = this.box;
    return box.scrollHeight - box.scrollTop - box.clientHeight <= BOTTOM_SLACK_PX;
  };

  Viewer.prototype.setState = function (text, kind) {
    this.stateEl.textContent = text;
    this.stateEl.className = "log-state log-state-" + kind;
  };

  function nodesFor(lines) {
    var fragment = document.createDocumentFragment();
    for (var i = 0; i < lines.length; i++) {
      var div = document.createElement("div");
      div.className = "log-line level-" + lines[i].level;
      div.setAttribute("data-seq", String(lines[i].seq));
      div.textContent = lines[i].text;
      fragment.appendChild(div);
    }
    return fragment;
  }

  var viewers = [];
  document.querySelectorAll("[data-log-viewer]").forEach(function (root) {
    var viewer = new Viewer(root);
    viewers.push(viewer);
    viewer.start();
  });
  window.OcimLogViewer = { viewers: viewers };
})();
