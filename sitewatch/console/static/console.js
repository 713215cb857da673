// The console's only script: the language switch, the camera grid's refresh, and the incident page's review
// buttons and keys. Plain JavaScript, no build step; words come from the page (data attributes), not from here.
(function () {
  "use strict";

  // Every request that changes something carries the page's CSRF token (the server refuses it otherwise).
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  document.querySelectorAll("[data-lang]").forEach(function (button) {
    button.addEventListener("click", function () {
      document.cookie = "sitewatch_lang=" + button.dataset.lang + "; path=/; max-age=31536000; SameSite=Strict";
      location.reload();
    });
  });

  var grid = document.querySelector("[data-cameras]");
  if (grid) {
    var refresh = function () {
      grid.querySelectorAll("img[data-snapshot]").forEach(function (img) {
        // A new query string only defeats caches; the server serves the newest frame whatever it says.
        img.src = img.dataset.snapshot + "?at=" + Date.now();
      });
      fetch("/v1/cameras", { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (cameras) {
          cameras.forEach(function (camera) {
            var card = grid.querySelector('[data-camera="' + CSS.escape(camera.camera) + '"]');
            if (!card) { return; }
            var state = card.querySelector("[data-state]");
            state.dataset.state = camera.state;
            state.className = "state state-" + camera.state;
            state.textContent = grid.getAttribute("data-state-" + camera.state) || camera.state;
            // A quiet camera's watcher went silent: say since when, in the page's language and the viewer's clock.
            card.querySelector("[data-reason]").textContent = camera.state !== "quiet" ? "" : grid.dataset.quiet
              .replace("{time}", new Date(camera.since).toLocaleString(document.documentElement.lang));
            card.querySelector(".frames").textContent = grid.dataset.frames
              .replace("{analysed}", camera.frames_analysed).replace("{dropped}", camera.frames_dropped);
          });
        })
        .catch(function () { /* the next tick tries again */ });
    };
    setInterval(refresh, 2000);
  }

  // A chat answer streams as server-sent events: `delta` (the growing answer), then `turn` (stored) or `error`.
  var ask = function (url, body, answer, failed) {
    fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body),
    }).then(function (response) {
      if (!response.ok) { answer.textContent = failed + " (" + response.status + ")"; return; }
      var reader = response.body.getReader();
      var decoder = new TextDecoder();
      var buffered = "";
      var pump = function () {
        return reader.read().then(function (chunk) {
          if (chunk.done) { return; }
          buffered += decoder.decode(chunk.value, { stream: true });
          var frames = buffered.split("\n\n");
          buffered = frames.pop();
          frames.forEach(function (frame) {
            var kind = (frame.match(/^event: (.*)$/m) || [])[1];
            var data = JSON.parse((frame.match(/^data: (.*)$/m) || [null, "{}"])[1]);
            if (kind === "delta" || kind === "turn") { answer.textContent = data.answer; }
            if (kind === "error") { answer.textContent = failed + ": " + data.detail; }
          });
          return pump();
        });
      };
      return pump();
    }).catch(function () { answer.textContent = failed; });
  };

  var incident = document.querySelector("[data-incident]");
  if (incident) {
    var status = incident.querySelector(".status");
    var dialog = incident.querySelector(".note-dialog");
    var review = function (body) {
      status.textContent = "";
      return fetch("/v1/incidents/" + encodeURIComponent(incident.dataset.incident) + "/review", {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: JSON.stringify(body),
      }).then(function (r) {
        if (r.ok) { location.reload(); } else { status.textContent = incident.dataset.failed + " (" + r.status + ")"; }
      });
    };
    var actions = {
      confirm: function () { review({ verdict: "confirmed" }); },
      false_alarm: function () { review({ verdict: "false_alarm" }); },
      note: function () { dialog.showModal(); dialog.querySelector("textarea").focus(); },
    };
    incident.querySelectorAll("[data-action]").forEach(function (button) {
      button.addEventListener("click", actions[button.dataset.action]);
    });
    dialog.addEventListener("close", function () {
      if (dialog.returnValue !== "save") { return; }
      var form = dialog.querySelector("form");
      var body = { note: form.elements.note.value };
      if (form.elements.verdict) { body.verdict = form.elements.verdict.value; }
      review(body);
    });
    var chat = incident.querySelector("[data-chat]");
    if (chat) {
      chat.querySelector("form").addEventListener("submit", function (event) {
        event.preventDefault();
        var box = event.target.elements.question;
        var item = document.createElement("li");
        var asked = document.createElement("q");
        var answer = document.createElement("p");
        asked.textContent = box.value;
        item.append(asked, answer);
        chat.querySelector(".turns").append(item);
        ask(chat.dataset.chat, { question: box.value, lang: document.documentElement.lang }, answer, chat.dataset.failed);
        box.value = "";
      });
    }
    var go = function (where) { if (where) { location.href = where; } };
    var keys = {
      c: actions.confirm, f: actions.false_alarm, n: actions.note,
      j: function () { go(incident.dataset.next); }, k: function () { go(incident.dataset.previous); },
    };
    document.addEventListener("keydown", function (event) {
      var typing = /^(INPUT|TEXTAREA|SELECT)$/.test(event.target.tagName) || dialog.open;
      if (typing || event.ctrlKey || event.metaKey || event.altKey || !keys[event.key]) { return; }
      event.preventDefault();
      keys[event.key]();
    });
  }
})();
