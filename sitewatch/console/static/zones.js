// A camera's zone editor: click corners on the snapshot, double-click (or Close polygon) to finish, pick the kind
// and dwell, save the camera's whole set through PUT /v1/cameras/{camera}/zones; delete one by saving the set
// without it. Plain JavaScript, no build step; words come from the page (data attributes), not from here.
(function () {
  "use strict";

  var editor = document.querySelector("[data-zones-editor]");
  if (!editor) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var SAME_CORNER = 0.004; // the second click of a double-click lands here: not a new corner
  var url = "/v1/cameras/" + encodeURIComponent(editor.dataset.zonesEditor) + "/zones";
  var svg = editor.querySelector("[data-overlay]");
  var img = editor.querySelector("img[data-snapshot]");
  var status = editor.querySelector(".status");
  var fields = {
    name: editor.querySelector("[name=zone-name]"),
    kind: editor.querySelector("[name=zone-kind]"),
    dwell: editor.querySelector("[name=zone-dwell]"),
  };
  var saved = []; // the camera's zones as the server keeps them
  var draft = []; // corners placed so far
  var closed = null; // a finished polygon, not saved yet
  var sketch = document.createElementNS(NS, "g");
  svg.append(sketch);

  var plain = function (zone) {
    return { name: zone.name, kind: zone.kind, points: zone.points, dwell_s: zone.dwell_s };
  };
  fetch(url, { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : { zones: [] }; })
    .then(function (body) { saved = body.zones.map(plain); });

  var shape = function (tag, points, className) {
    var element = document.createElementNS(NS, tag);
    element.setAttribute("points", points.map(function (p) { return p[0] + "," + p[1]; }).join(" "));
    element.setAttribute("class", className);
    return element;
  };
  var draw = function () {
    sketch.replaceChildren();
    if (closed) {
      sketch.append(shape("polygon", closed, "zone zone-" + fields.kind.value + " unsaved"));
    } else if (draft.length) {
      sketch.append(shape("polyline", draft, "draft"));
    }
  };
  var say = function (text) { status.textContent = text; };
  var corner = function (event) {
    var box = svg.getBoundingClientRect();
    var unit = function (v) { return Math.round(Math.min(1, Math.max(0, v)) * 10000) / 10000; };
    return [unit((event.clientX - box.left) / box.width), unit((event.clientY - box.top) / box.height)];
  };

  svg.addEventListener("click", function (event) {
    var point = corner(event);
    var last = draft[draft.length - 1];
    if (last && Math.abs(last[0] - point[0]) < SAME_CORNER && Math.abs(last[1] - point[1]) < SAME_CORNER) { return; }
    closed = null;
    draft.push(point);
    say("");
    draw();
  });
  var close = function () {
    if (draft.length < 3) { say(editor.dataset.needPoints); return false; }
    closed = draft;
    draft = [];
    draw();
    return true;
  };
  svg.addEventListener("dblclick", function (event) { event.preventDefault(); close(); });
  fields.kind.addEventListener("change", draw);

  var put = function (zones) {
    say("");
    return fetch(url, {
      method: "PUT", credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRF-Token": document.querySelector('meta[name="csrf-token"]').content,
      }, body: JSON.stringify({ zones: zones }),
    }).then(function (r) {
      if (r.ok) { location.href = location.pathname + "?saved=1"; return; }
      return r.json().then(function (problem) { say(editor.dataset.failed + ": " + (problem.detail || r.status)); });
    }).catch(function () { say(editor.dataset.failed); });
  };
  var actions = {
    close: close,
    clear: function () { draft = []; closed = null; say(""); draw(); },
    save: function () {
      if (!closed && draft.length && !close()) { return; }
      if (!closed) { put(saved); return; }
      var name = fields.name.value.trim();
      if (!name) { say(editor.dataset.needName); fields.name.focus(); return; }
      var zones = saved.filter(function (zone) { return zone.name !== name; });
      zones.push({ name: name, kind: fields.kind.value, points: closed, dwell_s: Number(fields.dwell.value) });
      put(zones);
    },
  };
  editor.querySelectorAll("[data-zone-action]").forEach(function (button) {
    button.addEventListener("click", function () { actions[button.dataset.zoneAction](); });
  });
  editor.querySelectorAll("[data-zone-delete]").forEach(function (button) {
    button.addEventListener("click", function () {
      put(saved.filter(function (zone) { return zone.name !== button.dataset.zoneDelete; }));
    });
  });

  setInterval(function () {
    // A new query string only defeats caches; the server serves the newest frame whatever it says.
    img.src = img.dataset.snapshot + "?at=" + Date.now();
  }, 2000);
})();
