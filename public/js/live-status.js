// Keeps status badges current. Any element with data-status-for="<appServerId>" shows that
// appserver's status (or the field named by data-status-field: vmStatus, isActive, …); a class
// "status-<old>" on it becomes "status-<new>". Status messages come from the rooms the page is in:
// the log viewer's appserver, and every instance named by a data-status-instance="<instanceId>".
// The instance list's row of a watched instance (its active count and newest status) follows too.
// The rest of a page that depends on the status is rendered again by live-regions.js.
(function () {
  "use strict";
  if (window.OcimLiveStatus) return;
  window.OcimLiveStatus = true;
  var newest = {}; // appServerId → time of the newest status shown: an older one never overwrites it
  // Per watched instance, its appservers as the messages tell them, for its row of the instance
  // list (views/console/_instance_list.ejs): complete once the watch's answer listed them all (it gives at most 200).
  var watched = {}; // instanceId → { complete, appServers: { appServerId: { status, isActive } } }

  function setBadge(el, text, cls) {
    el.textContent = text;
    el.className = "badge " + cls;
  }

  // As views/console/_instance_list.ejs renders them: "<n> active", then the newest appserver's status.
  function showInstanceRow(instanceId) {
    var w = watched[instanceId];
    if (!w || !w.complete) return;
    var ids = Object.keys(w.appServers).map(Number);
    var active = ids.filter(function (id) { return w.appServers[id].isActive; }).length;
    var latest = ids.length ? w.appServers[Math.max.apply(null, ids)].status : null;
    // The row is found by its link: an attribute on each of the list's 100 rows would cost every page 2.4 KB.
    document.querySelectorAll(".instance-list a").forEach(function (link) {
      var badges = link.pathname === "/instances/" + instanceId && link.querySelector(".badges");
      if (!badges) return;
      var el = badges.children;
      if (el[0]) setBadge(el[0], active + " active", "count-" + Math.min(active, 1));
      if (el[1]) setBadge(el[1], latest || "none", "status-" + (latest || "none"));
    });
  }

  function track(status) {
    var w = watched[status.instanceId];
    if (!w) return;
    var before = w.appServers[status.appServerId];
    w.appServers[status.appServerId] = {
      status: status.status,
      isActive: typeof status.isActive === "boolean" ? status.isActive : Boolean(before && before.isActive),
    };
    showInstanceRow(status.instanceId);
  }

  function show(status) {
    if (!status || typeof status.appServerId !== "number") return;
    var at = Date.parse(status.at) || 0;
    if (newest[status.appServerId] !== undefined && at < newest[status.appServerId]) return;
    newest[status.appServerId] = at;
    track(status);
    var elements = document.querySelectorAll('[data-status-for="' + status.appServerId + '"]');
    elements.forEach(function (el) {
      var field = el.getAttribute("data-status-field") || "status";
      if (!(field in status)) return;
      var value = status[field];
      var text = typeof value === "boolean" ? (value ? "yes" : "no") : String(value);
      el.textContent = text;
      el.setAttribute("data-status", text);
      Array.prototype.slice.call(el.classList).forEach(function (c) {
        if (c.indexOf("status-") === 0) el.classList.replace(c, "status-" + text);
      });
    });
  }

  document.addEventListener("ocim:status", function (e) { show(e.detail); });
  // The list on the left, rendered again by live-regions.js, comes from a shared read that may be
  // older than the messages: its watched rows show again what the messages told.
  document.addEventListener("ocim:regions-updated", function () {
    Object.keys(watched).forEach(function (id) { showInstanceRow(Number(id)); });
  });

  var instanceIds = [];
  document.querySelectorAll("[data-status-instance]").forEach(function (el) {
    var id = Number(el.getAttribute("data-status-instance"));
    if (id > 0 && instanceIds.indexOf(id) < 0) instanceIds.push(id);
  });
  if (!instanceIds.length || !window.OcimLive) return;
  instanceIds.forEach(function (id) { watched[id] = { complete: false, appServers: {} }; });
  var socket = window.OcimLive.socket();
  function watch() {
    instanceIds.forEach(function (instanceId) {
      socket.emit("watch-instance", { instanceId: instanceId }, function (reply) {
        if (!reply || !reply.statuses) return;
        // As events, so what else follows the statuses (live-regions.js) catches up as well.
        reply.statuses.forEach(window.OcimLive.dispatchStatus);
        // 200 is the most the answer lists: an instance with more may have older active ones.
        watched[instanceId].complete = reply.statuses.length < 200;
        showInstanceRow(instanceId);
      });
    });
  }
  // Rooms are left on disconnect: watch again on every (re)connection, and catch up on what changed.
  socket.on("connect", watch);
  if (socket.connected) watch();
})();
