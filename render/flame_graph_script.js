// The flame graph's interactivity, embedded in each SVG: hover details, click to
// zoom, search with the matched share, and the search and zoom kept in the URL
// (?s=term&z=depth,start) so a link shows the same view.
//
// A search is plain text, or a regular expression written /like this/ (or /this/i,
// ignoring case). A link may come from anyone, so the regular expression is never
// handed to the browser's own engine, whose backtracking can take exponential time
// ((a+)+$ on a long name hangs the page): it runs on the small engine below, which
// takes time in proportion to the name's length times the expression's, and within
// a budget of steps for the whole graph.
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
  var term = window.prompt("Search for text, or a /regular expression/", fg.search || "");
  if (term !== null && term !== "") search(term);
}

function search(term) {
  var matcher = searchMatcher(term);
  if (matcher.error) {
    fg.matched.textContent = matcher.error;
    return;
  }
  // Each name is tested once, however many frames it has; all before any is coloured,
  // so a search that runs out of budget changes nothing.
  var results = new Map();
  try {
    fg.frames.forEach(function (g) {
      if (!results.has(g.name)) results.set(g.name, matcher.test(g.name));
    });
  } catch (err) {
    if (err !== searchBudgetSpent) throw err;
    fg.matched.textContent = "Search stopped: too costly for this graph; try a simpler expression";
    return;
  }
  fg.search = term;
  var hits = [];
  fg.frames.forEach(function (g) {
    var match = results.get(g.name);
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

// {test(name)} for a search term, or {error}: /expression/ or /expression/i is a
// regular expression, anything else plain text.
function searchMatcher(term) {
  var re = /^\/([\s\S]*)\/(i?)$/.exec(term);
  if (!re) return {test: function (name) { return name.indexOf(term) !== -1; }};
  try {
    var program = compileRegex(re[1], re[2] === "i");
    return {test: function (name) { return runRegex(program, name); }};
  } catch (err) {
    if (typeof err !== "string") throw err;
    return {error: "Not a regular expression this search takes: " + err};
  }
}

// The regular expressions of the search: literals, ., classes ([a-z], [^;], \d \w \s
// and their negations), ^, $, groups ((...), (?:...)), | and the quantifiers * + ?
// {n} {n,} {n,m} (greedy or lazy, the same for a search). No backreferences or
// lookaround: what they need cannot run in linear time.
var searchBudgetSpent = {};
var searchLimits = {pattern: 1000, program: 20000, repeat: 1000, steps: 20000000};  // steps: about 2 s at worst

function compileRegex(pattern, ignoreCase) {
  if (pattern.length > searchLimits.pattern) throw "longer than " + searchLimits.pattern + " characters";
  var chars = Array.from(pattern), at = 0;
  function peek() { return chars[at]; }
  function eat(c) { if (chars[at] === c) { at++; return true; } return false; }
  function codeOf(c) { return c.codePointAt(0); }
  var digit = function (c) { return c >= 48 && c <= 57; };
  var word = function (c) { return digit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95; };
  var space = function (c) { return c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0x2028 || c === 0x2029 || c === 0xFEFF; };
  var not = function (f) { return function (c) { return !f(c); }; };
  function hex(count) {
    var digits = chars.slice(at, at + count).join("");
    if (!new RegExp("^[0-9a-fA-F]{" + count + "}$").test(digits)) throw "\\x and \\u need " + count + " hex digits";
    at += count;
    return parseInt(digits, 16);
  }
  // An escape after the backslash: a class test, or a code point.
  function escape() {
    var c = chars[at++];
    if (c === undefined) throw "a \\ ends the expression";
    switch (c) {
      case "d": return {test: digit};
      case "D": return {test: not(digit)};
      case "w": return {test: word};
      case "W": return {test: not(word)};
      case "s": return {test: space};
      case "S": return {test: not(space)};
      case "t": return {cp: 9};
      case "n": return {cp: 10};
      case "r": return {cp: 13};
      case "x": return {cp: hex(2)};
      case "u": return {cp: hex(4)};
      case "b": case "B": throw "word boundaries (\\b) are not supported";
    }
    if (/[1-9]/.test(c)) throw "backreferences are not supported";
    if (/[a-zA-Z0-9]/.test(c)) throw "\\" + c + " is not an escape it knows";
    return {cp: codeOf(c)};
  }
  function folded(test) {
    if (!ignoreCase) return test;
    return function (c) {
      if (test(c)) return true;
      var s = String.fromCodePoint(c), lower = s.toLowerCase(), upper = s.toUpperCase();
      return (lower.length === s.length && test(codeOf(lower))) || (upper.length === s.length && test(codeOf(upper)));
    };
  }
  function single(cp) { return function (c) { return c === cp; }; }
  function charClass() {
    var negated = eat("^"), parts = [], first = true;
    while (first || peek() !== "]") {
      first = false;
      if (peek() === undefined) throw "a [ without its ]";
      var low = peek() === "\\" ? (at++, escape()) : {cp: codeOf(chars[at++])};
      if (peek() === "-" && chars[at + 1] !== undefined && chars[at + 1] !== "]") {
        at++;
        var high = peek() === "\\" ? (at++, escape()) : {cp: codeOf(chars[at++])};
        if (low.test || high.test) throw "a range in [...] needs a character at each end";
        if (low.cp > high.cp) throw "the range " + String.fromCodePoint(low.cp) + "-" + String.fromCodePoint(high.cp) + " is out of order";
        parts.push((function (a, b) { return function (c) { return c >= a && c <= b; }; })(low.cp, high.cp));
      } else {
        parts.push(low.test || single(low.cp));
      }
    }
    at++;
    var any = function (c) { for (var i = 0; i < parts.length; i++) if (parts[i](c)) return true; return false; };
    var test = folded(any);
    return negated ? not(test) : test;
  }
  // The syntax tree: {k: "char", test} | {k: "bol"} | {k: "eol"} | {k: "seq", items}
  // | {k: "alt", a, b} | {k: "repeat", node, min, max} (max -1: no end).
  function alternation() {
    var left = sequence();
    while (eat("|")) left = {k: "alt", a: left, b: sequence()};
    return left;
  }
  function sequence() {
    var items = [];
    while (at < chars.length && peek() !== "|" && peek() !== ")") items.push(quantified(atom()));
    return {k: "seq", items: items};
  }
  function atom() {
    var c = chars[at++];
    switch (c) {
      case "(":
        if (eat("?")) {
          if (!eat(":")) throw "lookaround and named groups are not supported";
        }
        var inner = alternation();
        if (!eat(")")) throw "a ( without its )";
        return inner;
      case ")": throw "a ) without its (";
      case "[": return {k: "char", test: charClass()};
      case ".": return {k: "char", test: function (x) { return x !== 10 && x !== 13 && x !== 0x2028 && x !== 0x2029; }};
      case "^": return {k: "bol"};
      case "$": return {k: "eol"};
      case "*": case "+": case "?": throw "nothing to repeat before " + c;
      case "\\":
        var e = escape();
        return {k: "char", test: e.test || folded(single(e.cp))};
    }
    return {k: "char", test: folded(single(codeOf(c)))};
  }
  function quantified(node) {
    var min, max;
    if (eat("*")) { min = 0; max = -1; }
    else if (eat("+")) { min = 1; max = -1; }
    else if (eat("?")) { min = 0; max = 1; }
    else if (peek() === "{" && /^\{\d+(,\d*)?\}/.test(chars.slice(at, at + 24).join(""))) {
      var m = /^\{(\d+)(,(\d*))?\}/.exec(chars.slice(at, at + 24).join(""));
      at += m[0].length;
      min = +m[1];
      max = m[2] === undefined ? min : m[3] === "" ? -1 : +m[3];
      if (max !== -1 && max < min) throw "{" + min + "," + max + "} is out of order";
      if (min > searchLimits.repeat || max > searchLimits.repeat) throw "a repeat count above " + searchLimits.repeat;
    } else {
      return node;
    }
    eat("?");  // lazy: the same for whether a name matches
    if (peek() === "*" || peek() === "+" || peek() === "?" || (peek() === "{" && /^\{\d/.test(chars.slice(at, at + 3).join(""))))
      throw "a quantifier after a quantifier";
    return {k: "repeat", node: node, min: min, max: max};
  }

  var tree = alternation();
  if (at < chars.length) throw "a ) without its (";

  // The program, Thompson's construction: {op: "char", test} | {op: "split", x, y}
  // | {op: "jmp", x} | {op: "bol"} | {op: "eol"} | {op: "match"}.
  var program = [];
  function emit(instruction) {
    if (program.length >= searchLimits.program) throw "too large (repeats make it " + searchLimits.program + " steps or more)";
    program.push(instruction);
    return program.length - 1;
  }
  function compile(node) {
    switch (node.k) {
      case "char": emit({op: "char", test: node.test}); return;
      case "bol": emit({op: "bol"}); return;
      case "eol": emit({op: "eol"}); return;
      case "seq": node.items.forEach(compile); return;
      case "alt":
        var split = emit({op: "split"});
        program[split].x = program.length;
        compile(node.a);
        var jump = emit({op: "jmp"});
        program[split].y = program.length;
        compile(node.b);
        program[jump].x = program.length;
        return;
      case "repeat":
        for (var i = 0; i < node.min; i++) compile(node.node);
        if (node.max === -1) {
          var loop = emit({op: "split"});
          program[loop].x = program.length;
          compile(node.node);
          emit({op: "jmp", x: loop});
          program[loop].y = program.length;
        } else {
          var exits = [];
          for (var j = node.min; j < node.max; j++) {
            var optional = emit({op: "split"});
            program[optional].x = program.length;
            exits.push(optional);
            compile(node.node);
          }
          exits.forEach(function (e) { program[e].y = program.length; });
        }
        return;
    }
  }
  compile(tree);
  emit({op: "match"});
  return {code: program, budget: searchLimits.steps};
}

// Whether the program matches anywhere in name: every thread of the automaton is
// stepped along the name together, at most one per instruction, so the time is the
// name's length times the program's at worst. Steps come out of the program's budget.
function runRegex(program, name) {
  var code = program.code, points = Array.from(name, function (c) { return c.codePointAt(0); });
  var seen = new Int32Array(code.length).fill(-1), stack = [];
  var current = [], next = [], generation = 0;
  // Adds pc and what it reaches without reading a character; true on a match.
  function add(list, pc, position) {
    stack.push(pc);
    while (stack.length) {
      var at = stack.pop();
      if (seen[at] === generation) continue;
      seen[at] = generation;
      if (--program.budget < 0) throw searchBudgetSpent;
      var instruction = code[at];
      switch (instruction.op) {
        case "match": stack.length = 0; return true;
        case "jmp": stack.push(instruction.x); break;
        case "split": stack.push(instruction.y, instruction.x); break;
        case "bol": if (position === 0) stack.push(at + 1); break;
        case "eol": if (position === points.length) stack.push(at + 1); break;
        default: list.push(at);
      }
    }
    return false;
  }
  for (var position = 0; ; position++) {
    // A new thread at each position: the expression may match anywhere.
    if (add(current, 0, position)) return true;
    if (position === points.length) return false;
    generation++;
    next.length = 0;
    for (var i = 0; i < current.length; i++) {
      if (--program.budget < 0) throw searchBudgetSpent;
      var instruction = code[current[i]];
      if (instruction.test(points[position]) && add(next, current[i] + 1, position + 1)) return true;
    }
    var swap = current;
    current = next;
    next = swap;
  }
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
