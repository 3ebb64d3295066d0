// Keeps status badges current. Any element with data-status-for="<appServerId>" shows that
// appserver's status (or the field named by data-status-field: vmStatus, isActive, …); a class
// "status-<old>" on it becomes "status-<new>". Status messages come from the rooms the page is in:
// the log viewer's appserver, and every instance named by a data-status-instance="<instanceId>".
// The rest of a page that depends on the status is rendered again by live-regions.js.
(function () {
  "use strict";
  if (window.OcimLiveStatus) return;
  window.OcimLiveStatus = true;
  var newest = {}; // appServerId → time of the newest status shown: an older one never overwrites it

  function show(status) {
    if (!status || typeof status.appServerId !== "number") return;
    var at = Date.parse(status.at) || 0;
    if (newest[status.appServerId] !== undefined && at < newest[status.appServerId]) return;
    newest[status.appServerId] = at;
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

  var instanceIds = [];
  document.querySelectorAll("[data-status-instance]").forEach(function (el) {
    var id = Number(el.getAttribute("data-status-instance"));
    if (id > 0 && instanceIds.indexOf(id) < 0) instanceIds.push(id);
  });
  if (!instanceIds.length || !window.OcimLive) return;
  var socket = window.OcimLive.socket();
  function watch() {
    instanceIds.forEach(function (instanceId) {
      socket.emit("watch-instance", { instanceId: instanceId }, function (reply) {
        // As events, so what else follows the statuses (live-regions.js) catches up as well.
        if (reply && reply.statuses) reply.statuses.forEach(window.OcimLive.dispatchStatus);
      });
    });
  }
  // Rooms are left on disconnect: watch again on every (re)connection, and catch up on what changed.
  socket.on("connect", watch);
  if (socket.connected) watch();
})();
