// The console's script. The page the daemon writes already lists processes and
// sessions with links to every format; this adds what needs a script: starting a
// session from a process's row, stopping and deleting, a running session's graph
// redrawn as it grows (the search and zoom kept), comparing two sessions, and a
// token for a daemon that needs one from this browser.
//
// The token is kept in sessionStorage (this tab only) and sent as
// "Authorization: Bearer"; never in a URL or a cookie. A frame's own request for a
// graph could not carry it, so graphs are fetched here and shown from blob: URLs
// (whose documents run under this page's policy, which lets the graph's own script
// and styles run by their hashes).
"use strict";
(function () {
  var tokenKey = "pyprofd-token";
  var refreshEvery = 3000;  // ms: the session list, and a live graph's redraw
  var formats = JSON.parse(document.body.getAttribute("data-formats") || "[]");
  var timers = {list: null, live: null};
  var live = {id: null, view: null, busy: false};
  var compareView = null;
  var armedDeletes = {};  // session id: its delete button was clicked once, a moment ago

  function $(id) { return document.getElementById(id); }

  // --- talking to the daemon -------------------------------------------------

  function token() { return window.sessionStorage.getItem(tokenKey) || ""; }

  // fetch() with the token; a 401 asks for one and rejects. Resolves to the
  // response when ok, else rejects with the problem's detail.
  function call(method, path, body, accept) {
    var headers = {Accept: accept || "application/json"};
    if (token()) headers.Authorization = "Bearer " + token();
    var init = {method: method, headers: headers, credentials: "omit", cache: "no-store"};
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (response) {
      if (response.ok) return response;
      return response.text().then(function (text) {
        var detail = text;
        try { detail = JSON.parse(text).detail || text; } catch (e) { /* not a problem body */ }
        if (response.status === 401) {
          window.sessionStorage.removeItem(tokenKey);  // a token it refused: asked for again, not sent again
          askForToken(detail);
        }
        var error = new Error(detail || response.statusText);
        error.status = response.status;
        throw error;
      });
    });
  }

  function callJson(method, path, body) {
    return call(method, path, body).then(function (r) { return r.status === 204 ? null : r.json(); });
  }

  function say(text, kind) {
    var m = $("message");
    m.textContent = text;
    m.className = kind || "";
    m.hidden = !text;
  }

  function failed(what) {
    return function (error) { if (error.status !== 401) say(what + ": " + error.message); };
  }

  // --- the token ----------------------------------------------------------------

  function askForToken(reason) {
    $("sign-in-reason").textContent = reason;
    $("sign-in-reason").hidden = false;
    $("token-form").hidden = false;
    $("token").focus();
  }

  function tokenEntered(event) {
    event.preventDefault();  // never a form submission: the token would be in its body or URL
    var value = $("token").value.trim();
    $("token").value = "";
    if (!value) return;
    window.sessionStorage.setItem(tokenKey, value);
    $("token-form").hidden = true;
    $("sign-in-reason").hidden = true;
    say("");
    refresh(true);
  }

  function forgetToken() {
    window.sessionStorage.removeItem(tokenKey);
    say("The token is forgotten.", "info");
  }

  // --- processes ----------------------------------------------------------------

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function button(parent, action, text) {
    var b = document.createElement("button");
    b.type = "button";
    b.setAttribute("data-action", action);
    b.textContent = text;
    parent.appendChild(b);
    return b;
  }

  function showProcesses(list) {
    var body = $("processes").querySelector("tbody");
    body.textContent = "";
    list.processes.forEach(function (p) {
      var row = document.createElement("tr");
      row.setAttribute("data-pid", p.pid);
      cell(row, String(p.pid));
      cell(row, p.user);
      cell(row, p.python_version || "?");
      cell(row, (p.command_line || []).join(" "), "command");
      cell(row, String(p.threads), "num");
      cell(row, p.started);
      cell(row, [p.container && "container", p.pid_namespace && "own PIDs", p.mount_namespace && "own mounts"]
        .filter(Boolean).join(", "));
      button(cell(row, "", "needs-script"), "profile", "profile");
      body.appendChild(row);
    });
    var note = list.processes.length ? "" : "No Python process you may profile.";
    if (list.skipped > 0) note += (note ? " " : "") + list.skipped + " more looked like Python but could not be read.";
    $("processes-note").textContent = note;
  }

  function openStartForm(row) {
    var form = $("start-form");
    form.elements.pid.value = row.getAttribute("data-pid");
    $("start-target").textContent = "process " + row.getAttribute("data-pid") + " (" +
      row.querySelector(".command").textContent + ")";
    $("start").hidden = false;
    $("start").scrollIntoView({block: "nearest"});
    form.elements.rate_hz.focus();
  }

  function startSession(event) {
    event.preventDefault();
    var form = $("start-form").elements;
    var request = {pid: +form.pid.value, rate_hz: +form.rate_hz.value,
                   duration_s: form.until_stopped.checked ? null : +form.duration_s.value};
    if (form.name.value) request.name = form.name.value;
    ["idle", "gil_only", "threads", "function", "blocking", "subprocesses"].forEach(function (option) {
      if (form[option].checked) request[option] = true;
    });
    callJson("POST", "/sessions", request).then(function (session) {
      $("start").hidden = true;
      say("Session " + session.id + " started.", "info");
      refresh(false);
      openLive(session.id);
    }, failed("The session did not start"));
  }

  // --- sessions -----------------------------------------------------------------

  // The share of the schedule's ticks that got a sample: counted at the end; while
  // it runs, the session's count so far is an estimate from the time ("≈").
  function onSchedule(s) {
    var running = s.state === "running";
    var ticks = s.samples_expected > 0 ? s.samples_expected : running ? s.elapsed_s * s.options.rate_hz : 0;
    if (ticks < 1) return null;
    return (running ? "\u2248" : "") + (100 * Math.min(s.samples, ticks) / ticks).toFixed(1) + "%";
  }

  function progressText(s) {
    var text = s.samples + " samples";
    if (onSchedule(s)) text += ", " + onSchedule(s) + " on schedule";
    var errors = s.errors.failed_samples + s.errors.thread_errors;
    if (errors > 0) text += ", " + errors + " errors";
    return text;
  }

  function resultLinks(parent, base) {
    formats.forEach(function (f) {
      var a = document.createElement("a");
      a.href = base + f[0];
      a.textContent = f[1];
      parent.appendChild(a);
      parent.appendChild(document.createTextNode(" "));
    });
  }

  function radio(parent, name, id, checked) {
    var label = document.createElement("label");
    var input = document.createElement("input");
    input.type = "radio";
    input.name = name;
    input.value = id;
    input.checked = checked;
    label.appendChild(input);
    label.appendChild(document.createTextNode(" " + name));
    parent.appendChild(label);
    parent.appendChild(document.createTextNode(" "));
  }

  function checkedValue(name) {
    var input = document.querySelector("input[name=" + name + "]:checked");
    return input ? input.value : null;
  }

  function showSessions(page) {
    var before = checkedValue("before"), after = checkedValue("after");
    var body = $("sessions").querySelector("tbody");
    body.textContent = "";
    page.sessions.forEach(function (s) {
      var running = s.state === "running";
      var row = document.createElement("tr");
      row.setAttribute("data-id", s.id);
      row.setAttribute("data-state", s.state);
      if (s.id === live.id) row.className = "selected";
      var first = cell(row, "");
      var a = document.createElement("a");
      a.href = "/sessions/" + s.id;
      a.textContent = s.id;
      first.appendChild(a);
      first.appendChild(document.createElement("br"));
      first.appendChild(document.createTextNode(s.name));
      var t = s.target;
      var program = (t.command_line && t.command_line[0]) || (t.command && t.command[0]) || "";
      cell(row, (t.pid ? t.pid + " " : "") + program, "command");
      cell(row, s.state, "state " + s.state);
      cell(row, s.created_at);
      cell(row, progressText(s));
      resultLinks(cell(row, "", "links"), "/sessions/" + s.id + "/");
      var actions = cell(row, "", "needs-script actions");
      button(actions, "live", running ? "live" : "view");
      actions.appendChild(document.createTextNode(" "));
      button(actions, "stop", "stop").hidden = !running;
      actions.appendChild(document.createTextNode(" "));
      button(actions, "delete", armedDeletes[s.id] ? "really delete?" : "delete");
      actions.appendChild(document.createElement("br"));
      radio(actions, "before", s.id, s.id === before);
      radio(actions, "after", s.id, s.id === after);
      body.appendChild(row);
    });
    $("sessions-note").hidden = page.sessions.length > 0;
  }

  function sessionAction(event) {
    var b = event.target.closest("button[data-action]");
    if (!b) return;
    var row = b.closest("tr");
    var action = b.getAttribute("data-action");
    if (action === "profile") return openStartForm(row);
    var id = row.getAttribute("data-id");
    if (action === "live") return openLive(id);
    if (action === "stop") return stopSession(id);
    if (action === "delete") {
      // A second click within a few seconds deletes: no dialog, and no slip.
      if (!armedDeletes[id]) {
        armedDeletes[id] = true;
        b.textContent = "really delete?";
        window.setTimeout(function () {
          delete armedDeletes[id];
          var again = document.querySelector("#sessions tr[data-id='" + id + "'] button[data-action=delete]");
          if (again) again.textContent = "delete";
        }, 4000);
        return;
      }
      delete armedDeletes[id];
      callJson("DELETE", "/sessions/" + id).then(function () {
        if (live.id === id) closeLive();
        refresh(false);
      }, failed("The session was not deleted"));
    }
  }

  function stopSession(id) {
    return callJson("POST", "/sessions/" + id + "/stop").then(function () {
      refresh(false);
      if (live.id === id) liveTick();
    }, failed("The session did not stop"));
  }

  // Everything listed again; on the first load after a token, the processes too.
  var refreshes = 0;
  function refresh(withProcesses) {
    var lists = [callJson("GET", "/sessions?limit=1000").then(showSessions)];
    if (withProcesses || refreshes % 5 === 0)
      lists.push(callJson("GET", "/processes").then(showProcesses, function (error) {
        if (error.status !== 401) $("processes-note").textContent = "The process list is not available: " + error.message;
      }));
    refreshes += 1;
    return Promise.all(lists).catch(failed("The lists could not be read"));
  }

  // --- graphs -------------------------------------------------------------------

  // A flame graph shown in a frame from a blob: URL. Each new drawing loads into a
  // frame of its own, hidden until it is ready, then takes the old one's place with
  // its view: the search (the graph's own, or the one typed here) and the zoom (the
  // same frame, found by its path of names from the root, since a growing profile
  // moves every frame's place).
  function GraphView(container) {
    this.container = container;
    this.frame = null;
    this.url = null;
  }

  GraphView.prototype.graph = function () {
    var w = this.frame && this.frame.contentWindow;
    return w && w.fg && w.fg.frames ? w : null;
  };

  GraphView.prototype.view = function () {
    var w = this.graph();
    if (!w) return {search: null, zoom: null};
    return {search: w.fg.search, zoom: w.fg.zoomed ? pathOf(w.fg.zoomed, w.fg.frames) : null};
  };

  function pathOf(g, frames) {
    var path = frames.filter(function (f) {
      return f.depth <= g.depth && f.start <= g.start && f.start + f.samples >= g.start + g.samples;
    });
    path.sort(function (a, b) { return a.depth - b.depth; });
    return path.map(function (f) { return f.name; });
  }

  function frameAt(path, frames) {
    var depth = path.length - 1;
    return frames.filter(function (g) {
      return g.depth === depth && g.name === path[depth] && pathOf(g, frames).join("\n") === path.join("\n");
    })[0] || null;
  }

  // Resolves once the new drawing shows, with the view it was given.
  GraphView.prototype.show = function (blob, view) {
    var self = this;
    var url = URL.createObjectURL(blob);
    var frame = document.createElement("iframe");
    frame.className = "pending";
    frame.title = "flame graph";
    return new Promise(function (resolve) {
      frame.addEventListener("load", function () {
        var w = frame.contentWindow, doc = frame.contentDocument;
        if (w.fg && w.fg.frames && view) {
          if (view.zoom) {
            var g = frameAt(view.zoom, w.fg.frames);
            if (g) w.zoom(g);
          }
          if (view.search) w.search(view.search);
        }
        var svg = doc && doc.documentElement;
        frame.style.height = ((svg && +svg.getAttribute("height")) || 300) + 4 + "px";
        frame.className = "";
        if (self.frame) self.container.removeChild(self.frame);
        if (self.url) URL.revokeObjectURL(self.url);
        self.frame = frame;
        self.url = url;
        resolve();
      }, {once: true});
      frame.src = url;
      self.container.appendChild(frame);
    });
  };

  GraphView.prototype.clear = function () {
    if (this.frame) this.container.removeChild(this.frame);
    if (this.url) URL.revokeObjectURL(this.url);
    this.frame = null;
    this.url = null;
  };

  function graphWidth(container) { return Math.max(300, Math.floor(container.clientWidth) - 2); }

  function fetchGraph(path) {
    return call("GET", path, undefined, "image/svg+xml").then(function (r) { return r.blob(); });
  }

  // --- the live view ------------------------------------------------------------

  function openLive(id) {
    if (live.id !== id && live.view) live.view.clear();
    live.id = id;
    live.view = live.view || new GraphView($("live-graph"));
    $("live").hidden = false;
    $("live-title").textContent = id;
    var links = $("live-links");
    links.textContent = "";
    resultLinks(links, "/sessions/" + id + "/");
    Array.prototype.forEach.call(document.querySelectorAll("#sessions tbody tr"), function (row) {
      row.classList.toggle("selected", row.getAttribute("data-id") === id);
    });
    $("live").scrollIntoView({block: "nearest"});
    window.clearInterval(timers.live);
    timers.live = window.setInterval(liveTick, refreshEvery);
    liveTick();
  }

  function closeLive() {
    window.clearInterval(timers.live);
    if (live.view) live.view.clear();
    live.id = null;
    $("live").hidden = true;
  }

  function showProgress(s) {
    var dl = $("live-progress");
    dl.textContent = "";
    var errors = s.errors.failed_samples + s.errors.thread_errors;
    var rows = [["state", s.state], ["name", s.name], ["samples", String(s.samples)],
                ["on schedule", onSchedule(s) || "\u2013"],
                ["errors", String(errors)], ["elapsed", s.elapsed_s.toFixed(1) + " s"],
                ["rate", s.options.rate_hz + " Hz"],
                ["duration", s.options.duration_s === null ? "until stopped" : s.options.duration_s + " s"],
                ["lag (max)", s.lag_ms.max.toFixed(1) + " ms"]];
    if (s.failure) rows.push(["failure", s.failure]);
    rows.forEach(function (r) {
      var dt = document.createElement("dt"), dd = document.createElement("dd");
      dt.textContent = r[0];
      dd.textContent = r[1];
      dd.setAttribute("data-field", r[0]);
      dl.appendChild(dt);
      dl.appendChild(dd);
    });
    var running = s.state === "running";
    $("live-heading").textContent = running ? "Live" : "Session";
    $("live-stop").hidden = !running;
  }

  // The session's progress, then its graph drawn again (a snapshot while it runs);
  // once it has ended, drawn one last time and left.
  function liveTick() {
    if (live.busy || !live.id) return;
    var id = live.id;
    live.busy = true;
    callJson("GET", "/sessions/" + id).then(function (s) {
      if (live.id !== id) return null;
      showProgress(s);
      if (s.state !== "running") window.clearInterval(timers.live);
      var view = live.view.view();
      if (live.pendingSearch !== undefined) {
        view.search = live.pendingSearch || null;
        live.pendingSearch = undefined;
      }
      return fetchGraph("/sessions/" + id + "/flame.svg?width=" + graphWidth($("live-graph"))).then(function (blob) {
        if (live.id !== id) return null;
        return live.view.show(blob, view).then(function () {
          $("live-search").value = view.search || "";
          $("live-redrawn").textContent = "drawn at " + new Date().toLocaleTimeString() + " from " + s.samples + " samples";
        });
      });
    }).catch(failed("The live view could not be drawn")).then(function () { live.busy = false; });
  }

  function liveSearch(event) {
    event.preventDefault();
    var term = $("live-search").value;
    var w = live.view && live.view.graph();
    if (w) {
      if (term) w.search(term); else w.resetSearch();
    } else {
      live.pendingSearch = term;  // for the first drawing
    }
  }

  function liveSearchReset() {
    $("live-search").value = "";
    var w = live.view && live.view.graph();
    if (w) w.resetSearch();
  }

  // --- compare --------------------------------------------------------------------

  function compare() {
    var before = checkedValue("before"), after = checkedValue("after");
    if (!before || !after) return say("Pick a session as before and one as after (the radio buttons in each row).");
    if (before === after) return say("Pick two different sessions to compare.");
    say("");
    $("compare").hidden = false;
    $("compare-title").textContent = before + " \u2192 " + after;
    var base = "/sessions/" + before + "/diff/" + after;
    var links = $("compare-links");
    links.textContent = "";
    [[".svg", "graph"], [".txt", "table"], [".json", "table as JSON"]].forEach(function (f) {
      var a = document.createElement("a");
      a.href = base + f[0];
      a.textContent = f[1];
      links.appendChild(a);
      links.appendChild(document.createTextNode(" "));
    });
    compareView = compareView || new GraphView($("compare-graph"));
    $("compare-table").textContent = "";
    var graph = fetchGraph(base + ".svg?width=" + graphWidth($("compare-graph"))).then(function (blob) {
      return compareView.show(blob, null);
    });
    var table = call("GET", base + ".txt", undefined, "text/plain").then(function (r) { return r.text(); })
      .then(function (text) { $("compare-table").textContent = text; });
    Promise.all([graph, table]).then(function () {
      $("compare").scrollIntoView({block: "nearest"});
    }, failed("The comparison could not be made"));
  }

  // --- start ----------------------------------------------------------------------

  function start() {
    document.documentElement.classList.add("scripted");
    $("token-form").addEventListener("submit", tokenEntered);
    $("forget-token").addEventListener("click", forgetToken);
    $("processes").addEventListener("click", sessionAction);
    $("sessions").addEventListener("click", sessionAction);
    $("start-form").addEventListener("submit", startSession);
    $("start-form").elements.until_stopped.addEventListener("change", function (e) {
      $("start-form").elements.duration_s.disabled = e.target.checked;
    });
    $("start-cancel").addEventListener("click", function () { $("start").hidden = true; });
    $("live-stop").addEventListener("click", function () { if (live.id) stopSession(live.id); });
    $("live-close").addEventListener("click", closeLive);
    $("live-search-form").addEventListener("submit", liveSearch);
    $("live-search-reset").addEventListener("click", liveSearchReset);
    $("compare-button").addEventListener("click", compare);
    var signedOut = document.body.getAttribute("data-signed-out") === "true";
    if (signedOut && !token()) {
      askForToken($("sign-in-reason").textContent);
    } else {
      $("token-form").hidden = !token();  // with a token: the place to forget it
      $("sign-in-reason").hidden = true;
      refresh(true);
    }
    timers.list = window.setInterval(function () { if (!$("token-form").hidden && !token()) return; refresh(false); },
                                     refreshEvery);
  }

  start();
})();
