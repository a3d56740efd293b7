// The flame graph's interactivity, embedded in each SVG: hover details, click to
// zoom, regex search with the matched share, and the search and zoom kept in the
// URL (?s=regex&z=depth,start) so a link shows the same view.
"use strict";
var fg = {};

function init() {
  var svg = document.documentElement;
  fg.total = +svg.getAttribute("data-total");
  fg.pad = +svg.getAttribute("data-pad");
  fg.chartWidth = +svg.getAttribute("data-chart-width");
  fg.charWidth = +svg.getAttribute("data-char-width");
  fg.unit = svg.getAttribute("data-unit") || "samples";
  // A differential graph also carries each frame's samples in the baseline (before).
  fg.baselineTotal = svg.hasAttribute("data-baseline-total") ? +svg.getAttribute("data-baseline-total") : null;
  fg.details = document.getElementById("details");
  fg.matched = document.getElementById("matched");
  fg.searchButton = document.getElementById("search");
  fg.resetSearchButton = document.getElementById("reset-search");
  fg.unzoomButton = document.getElementById("unzoom");
  fg.frames = Array.prototype.slice.call(document.querySelectorAll("#frames > g"));
  fg.frames.forEach(function (g) {
    g.start = +g.getAttribute("data-s");
    g.samples = +g.getAttribute("data-n");
    g.depth = +g.getAttribute("data-d");
    g.before = g.hasAttribute("data-b") ? +g.getAttribute("data-b") : null;
    g.rect = g.querySelector("rect");
    g.label = g.querySelector("text");
    g.name = g.querySelector("title").textContent.split("\n")[0];
    g.fill = g.rect.getAttribute("fill");
  });
  fg.zoomed = null;
  fg.search = null;

  var container = document.getElementById("frames");
  container.addEventListener("mouseover", function (e) {
    var g = frameOf(e.target);
    if (g) fg.details.textContent = describe(g);
  });
  container.addEventListener("mouseout", function () { fg.details.textContent = " "; });
  container.addEventListener("click", function (e) {
    var g = frameOf(e.target);
    if (g) zoom(g);
  });
  fg.unzoomButton.addEventListener("click", function () { unzoom(); });
  fg.searchButton.addEventListener("click", function () { askSearch(); });
  fg.resetSearchButton.addEventListener("click", function () { resetSearch(); });
  window.addEventListener("keydown", function (e) {
    if ((e.ctrlKey || e.metaKey) && (e.key === "f" || e.key === "F") || e.key === "F3") {
      e.preventDefault();
      askSearch();
    } else if (e.key === "Escape") {
      resetSearch();
    }
  });

  var params = new URLSearchParams(window.location.search);
  var z = params.get("z");
  if (z) {
    var parts = z.split(",");
    var target = fg.frames.filter(function (g) { return g.depth === +parts[0] && g.start === +parts[1]; })[0];
    if (target) zoom(target);
  }
  // The URL's search wins over the one the graph was drawn with.
  var term = params.get("s") || svg.getAttribute("data-search");
  if (term) search(term);
}

function frameOf(node) {
  while (node && node.parentNode && node.parentNode.id !== "frames") node = node.parentNode;
  return node && node.parentNode && node.parentNode.id === "frames" ? node : null;
}

function percent(part, whole) { return (whole > 0 ? (100 * part / whole) : 0).toFixed(2) + "%"; }

function describe(g) {
  var text = g.name + " \u2014 " + g.samples + " " + fg.unit + " (" + percent(g.samples, fg.total);
  if (fg.zoomed && fg.zoomed !== g) text += ", " + percent(g.samples, fg.zoomed.samples) + " of the zoomed frame";
  text += ")";
  if (g.before !== null && fg.baselineTotal !== null) {
    var change = (fg.total > 0 ? 100 * g.samples / fg.total : 0) -
                 (fg.baselineTotal > 0 ? 100 * g.before / fg.baselineTotal : 0);
    text += "; before " + g.before + " (" + percent(g.before, fg.baselineTotal) + "): " +
            (change >= 0 ? "+" : "") + change.toFixed(2) + " points";
  }
  return text;
}

function fitLabel(g, width) {
  var chars = Math.floor((width - 6) / fg.charWidth);
  var name = Array.from(g.name);
  if (chars < 3) return "";
  if (name.length <= chars) return g.name;
  return name.slice(0, chars - 2).join("") + "..";
}

function place(g, x, width) {
  g.rect.setAttribute("x", x.toFixed(1));
  g.rect.setAttribute("width", Math.max(width, 0).toFixed(1));
  g.label.setAttribute("x", (x + 3).toFixed(1));
  g.label.textContent = fitLabel(g, width);
}

function zoom(target) {
  fg.zoomed = target;
  var scale = fg.chartWidth / target.samples;
  fg.frames.forEach(function (g) {
    var inside = g.depth >= target.depth && g.start >= target.start &&
                 g.start + g.samples <= target.start + target.samples;
    var ancestor = g.depth < target.depth && g.start <= target.start &&
                   g.start + g.samples >= target.start + target.samples;
    g.classList.toggle("hide", !inside && !ancestor);
    g.classList.toggle("ancestor", ancestor);
    if (inside) place(g, fg.pad + (g.start - target.start) * scale, g.samples * scale);
    else if (ancestor) place(g, fg.pad, fg.chartWidth);
  });
  fg.unzoomButton.classList.remove("hide");
  remember();
}

function unzoom() {
  fg.zoomed = null;
  var scale = fg.chartWidth / fg.total;
  fg.frames.forEach(function (g) {
    g.classList.remove("hide");
    g.classList.remove("ancestor");
    place(g, fg.pad + g.start * scale, g.samples * scale);
  });
  fg.unzoomButton.classList.add("hide");
  remember();
}

function askSearch() {
  var term = window.prompt("Search for (a regular expression)", fg.search || "");
  if (term !== null && term !== "") search(term);
}

function search(term) {
  var re;
  try {
    re = new RegExp(term);
  } catch (err) {
    fg.matched.textContent = "Not a regular expression: " + term;
    return;
  }
  fg.search = term;
  var hits = [];
  fg.frames.forEach(function (g) {
    var match = re.test(g.name);
    g.classList.toggle("match", match);
    g.rect.setAttribute("fill", match ? "rgb(230,0,230)" : g.fill);
    if (match) hits.push([g.start, g.start + g.samples]);
  });
  // Samples under a match, each counted once however many matches nest above it.
  hits.sort(function (a, b) { return a[0] - b[0]; });
  var covered = 0, end = -1;
  hits.forEach(function (h) {
    if (h[0] >= end) { covered += h[1] - h[0]; end = h[1]; }
    else if (h[1] > end) { covered += h[1] - end; end = h[1]; }
  });
  fg.matched.textContent = "Matched: " + percent(covered, fg.total);
  fg.matched.setAttribute("data-matched-samples", covered);
  fg.resetSearchButton.classList.remove("hide");
  remember();
}

function resetSearch() {
  fg.search = null;
  fg.frames.forEach(function (g) {
    g.classList.remove("match");
    g.rect.setAttribute("fill", g.fill);
  });
  fg.matched.textContent = " ";
  fg.resetSearchButton.classList.add("hide");
  remember();
}

// The view in the URL, so that a link (or a reload) shows it again.
function remember() {
  var params = new URLSearchParams(window.location.search);
  if (fg.search) params.set("s", fg.search); else params.delete("s");
  if (fg.zoomed) params.set("z", fg.zoomed.depth + "," + fg.zoomed.start); else params.delete("z");
  var query = params.toString();
  try {
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : ""));
  } catch (err) {
    // Some viewers forbid it (a file opened in an <img>, say); the view works anyway.
  }
}

// Started by the script itself, not an onload attribute: the daemon serves graphs
// under a Content-Security-Policy that allows this script (by its hash) and no
// inline event handler.
window.addEventListener("load", init);
