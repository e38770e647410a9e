// The live tail of the events page: poll the feed (a GET, read-only) and add new rows.
(function () {
  "use strict";
  var table = document.getElementById("events");
  if (!table) return;
  var body = table.tBodies[0];
  var state = document.getElementById("live-state");
  var feed = table.getAttribute("data-feed");
  function known() {
    var ids = {};
    Array.prototype.forEach.call(body.rows, function (row) { ids[row.getAttribute("data-id")] = true; });
    return ids;
  }
  function cell(row, text, cls) {
    var td = row.insertCell(-1);
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }
  function add(event) {
    var row = document.createElement("tr");
    row.setAttribute("data-id", event.id);
    row.className = "fresh";
    var link = document.createElement("a");
    link.href = event.href;
    var code = document.createElement("code");
    code.textContent = event.type;
    link.appendChild(code);
    row.insertCell(-1).appendChild(link);
    cell(row, event.object || "", "muted");
    cell(row, String(event.pending_webhooks), "num");
    cell(row, event.created, "nowrap");
    return row;
  }
  function poll() {
    fetch(feed, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { if (!answer.ok) throw new Error(answer.status); return answer.json(); })
      .then(function (page) {
        var ids = known();
        var fresh = page.data.filter(function (e) { return !ids[e.id]; });
        var empty = body.querySelector("tr.empty");
        if (fresh.length && empty) empty.remove();
        for (var i = fresh.length - 1; i >= 0; i--) body.insertBefore(add(fresh[i]), body.firstChild);
        state.textContent = "live"; state.className = "live";
      })
      .catch(function () { state.textContent = "paused"; state.className = "live off"; })
      .then(function () { window.setTimeout(poll, 2000); });
  }
  window.setTimeout(poll, 2000);
})();
