// expost report: interactive figures and sortable tables, no dependencies.
// Each chart div holds its figure as JSON in a script element of type application/json.
// Hover shows the values under the cursor; drag zooms the time axis; double-click resets.
(function () {
  "use strict";
  var SVGNS = "http://www.w3.org/2000/svg";
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];
  var DASHES = ["", "6 3", "2 2", "8 3 2 3", "4 4", "1 3", "10 4", "3 6"];
  var errors = [];
  window.addEventListener("error", function (e) { errors.push(String(e.message)); });

  function el(name, attrs, parent) {
    var node = document.createElementNS(SVGNS, name);
    for (var key in attrs) { node.setAttribute(key, attrs[key]); }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function finite(v) { return typeof v === "number" && isFinite(v); }

  function extent(fig, x0, x1) {
    var xs = [], ys = [];
    fig.lines.forEach(function (line) {
      line.points.forEach(function (p) {
        if (finite(p[0]) && finite(p[1])) { xs.push(p[0]); if (x0 === undefined || (p[0] >= x0 && p[0] <= x1)) { ys.push(p[1]); } }
      });
      line.band.forEach(function (b) {
        if (finite(b[0]) && finite(b[1]) && finite(b[2]) && (x0 === undefined || (b[0] >= x0 && b[0] <= x1))) { ys.push(b[1], b[2]); }
      });
    });
    if (!xs.length) { return null; }
    var xmin = fig.x_range ? fig.x_range[0] : Math.min.apply(null, xs);
    var xmax = fig.x_range ? fig.x_range[1] : Math.max.apply(null, xs);
    if (x0 !== undefined) { xmin = x0; xmax = x1; }
    var ymin = ys.length ? Math.min.apply(null, ys) : 0, ymax = ys.length ? Math.max.apply(null, ys) : 1;
    if (fig.y_range) { ymin = fig.y_range[0]; ymax = fig.y_range[1]; }
    else {
      if (ymin >= 0) { ymin = 0; }
      var pad = (ymax - ymin) * 0.05 || 1;
      ymax += pad; if (ymin < 0) { ymin -= pad; }
    }
    if (xmax <= xmin) { xmax = xmin + 1; }
    return { x: [xmin, xmax], y: [ymin, ymax] };
  }

  function ticks(lo, hi, count) {
    var span = hi - lo, raw = span / count, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; }).find(function (s) { return span / s <= count; }) || raw;
    var out = [], first = Math.ceil(lo / step) * step;
    for (var v = first; v <= hi + step * 1e-9; v += step) { out.push(Math.round(v / step) * step); }
    return out;
  }

  function fmt(v) {
    if (!finite(v)) { return "–"; }
    var a = Math.abs(v);
    if (a !== 0 && (a < 1e-3 || a >= 1e6)) { return v.toExponential(3); }
    return String(Math.round(v * 1000) / 1000);
  }

  function draw(chart, fig, view) {
    var W = 640, H = 360, M = { l: 64, r: 16, t: 12, b: 46 };
    var pw = W - M.l - M.r, ph = H - M.t - M.b;
    var svg = chart.querySelector("svg.interactive");
    if (svg) { svg.remove(); }
    svg = el("svg", { viewBox: "0 0 " + W + " " + H, class: "interactive", role: "img" });
    chart.insertBefore(svg, chart.querySelector(".legend"));
    var sx = function (x) { return M.l + (x - view.x[0]) / (view.x[1] - view.x[0]) * pw; };
    var sy = function (y) { return M.t + ph - (y - view.y[0]) / (view.y[1] - view.y[0]) * ph; };
    var clipId = "clip-" + chart.id;
    var defs = el("defs", {}, svg);
    el("rect", { x: M.l, y: M.t, width: pw, height: ph }, el("clipPath", { id: clipId }, defs));
    var grid = el("g", { class: "grid" }, svg);
    ticks(view.x[0], view.x[1], 8).forEach(function (t) {
      el("line", { x1: sx(t), x2: sx(t), y1: M.t, y2: M.t + ph }, grid);
      el("text", { x: sx(t), y: M.t + ph + 16, "text-anchor": "middle" }, svg).textContent = fmt(t);
    });
    ticks(view.y[0], view.y[1], 5).forEach(function (t) {
      el("line", { x1: M.l, x2: M.l + pw, y1: sy(t), y2: sy(t) }, grid);
      el("text", { x: M.l - 6, y: sy(t) + 4, "text-anchor": "end" }, svg).textContent = fmt(t);
    });
    el("rect", { x: M.l, y: M.t, width: pw, height: ph, class: "frame" }, svg);
    el("text", { x: M.l + pw / 2, y: H - 8, "text-anchor": "middle", class: "label" }, svg).textContent = fig.x_label;
    el("text", { x: 14, y: M.t + ph / 2, "text-anchor": "middle", class: "label", transform: "rotate(-90 14 " + (M.t + ph / 2) + ")" }, svg).textContent = fig.y_label;
    var plot = el("g", { "clip-path": "url(#" + clipId + ")" }, svg);
    fig.lines.forEach(function (line, i) {
      var color = PALETTE[i % PALETTE.length];
      var upper = [], lower = [];
      var flushBand = function () {
        if (upper.length > 1) {
          var d = "M" + upper.join("L") + "L" + lower.reverse().join("L") + "Z";
          el("path", { d: d, fill: color, "fill-opacity": 0.2, stroke: "none" }, plot);
        }
        upper = []; lower = [];
      };
      line.band.forEach(function (b) {
        if (finite(b[0]) && finite(b[1]) && finite(b[2])) { upper.push(sx(b[0]) + "," + sy(b[2])); lower.push(sx(b[0]) + "," + sy(b[1])); }
        else { flushBand(); }
      });
      flushBand();
    });
    fig.lines.forEach(function (line, i) {
      var color = PALETTE[i % PALETTE.length], d = "", pen = false;
      line.points.forEach(function (p) {
        if (finite(p[0]) && finite(p[1])) { d += (pen ? "L" : "M") + sx(p[0]) + "," + sy(p[1]); pen = true; } else { pen = false; }
      });
      el("path", { d: d, fill: "none", stroke: color, "stroke-width": 1.6, "stroke-dasharray": DASHES[i % DASHES.length] }, plot);
    });
    (fig.markers || []).forEach(function (m) {
      if (m.x < view.x[0] || m.x > view.x[1]) { return; }
      el("line", { x1: sx(m.x), x2: sx(m.x), y1: M.t, y2: M.t + ph, class: "marker" }, svg);
      if (m.label) { el("text", { x: sx(m.x) + 4, y: M.t + 12, class: "marker-label" }, svg).textContent = m.label; }
    });
    var cursor = el("line", { y1: M.t, y2: M.t + ph, class: "cursor", visibility: "hidden" }, svg);
    var selection = el("rect", { y: M.t, height: ph, class: "selection", visibility: "hidden" }, svg);
    var overlay = el("rect", { x: M.l, y: M.t, width: pw, height: ph, class: "overlay" }, svg);
    var tip = chart.querySelector(".tooltip");
    var toX = function (evt) {
      var r = svg.getBoundingClientRect();
      var px = (evt.clientX - r.left) / r.width * W;
      return view.x[0] + (px - M.l) / pw * (view.x[1] - view.x[0]);
    };
    var dragFrom = null;
    overlay.addEventListener("mousemove", function (evt) {
      var x = toX(evt);
      cursor.setAttribute("x1", sx(x)); cursor.setAttribute("x2", sx(x)); cursor.setAttribute("visibility", "visible");
      var rows = fig.lines.map(function (line, i) {
        var best = null;
        line.points.forEach(function (p) { if (finite(p[1]) && (best === null || Math.abs(p[0] - x) < Math.abs(best[0] - x))) { best = p; } });
        return best ? "<span style=\"color:" + PALETTE[i % PALETTE.length] + "\">■</span> " + escapeHtml(line.label) + ": " + fmt(best[1]) + " at " + fmt(best[0]) : "";
      }).filter(Boolean);
      tip.innerHTML = rows.join("<br>");
      tip.hidden = rows.length === 0;
      if (dragFrom !== null) {
        var a = Math.min(dragFrom, x), b = Math.max(dragFrom, x);
        selection.setAttribute("x", sx(a)); selection.setAttribute("width", sx(b) - sx(a)); selection.setAttribute("visibility", "visible");
      }
    });
    overlay.addEventListener("mouseleave", function () { cursor.setAttribute("visibility", "hidden"); tip.hidden = true; });
    overlay.addEventListener("mousedown", function (evt) { dragFrom = toX(evt); evt.preventDefault(); });
    overlay.addEventListener("mouseup", function (evt) {
      if (dragFrom === null) { return; }
      var x = toX(evt), a = Math.min(dragFrom, x), b = Math.max(dragFrom, x);
      dragFrom = null; selection.setAttribute("visibility", "hidden");
      if (b - a > (view.x[1] - view.x[0]) / 200) {
        var zoomed = extent(fig, a, b);
        if (zoomed) { chart.dataset.view = a + ":" + b; draw(chart, fig, zoomed); }
      }
    });
    overlay.addEventListener("dblclick", function () { delete chart.dataset.view; draw(chart, fig, extent(fig)); });
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"]/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;" }[c]; });
  }

  function legend(chart, fig) {
    var box = chart.querySelector(".legend");
    fig.lines.forEach(function (line, i) {
      if (!line.label) { return; }
      var item = document.createElement("span");
      item.innerHTML = "<svg width=\"28\" height=\"10\"><line x1=\"0\" y1=\"5\" x2=\"28\" y2=\"5\" stroke=\"" + PALETTE[i % PALETTE.length] +
        "\" stroke-width=\"2\" stroke-dasharray=\"" + DASHES[i % DASHES.length] + "\"/></svg> " + escapeHtml(line.label);
      box.appendChild(item);
    });
  }

  function sortable(table) {
    var headers = table.tHead ? table.tHead.rows[0].cells : [];
    Array.prototype.forEach.call(headers, function (th, column) {
      th.addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(headers, function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (r1, r2) {
          var c1 = r1.cells[column], c2 = r2.cells[column];
          var a = c1.dataset.v || c1.textContent, b = c2.dataset.v || c2.textContent;
          var na = parseFloat(a), nb = parseFloat(b);
          var cmp = (!isNaN(na) && !isNaN(nb) && String(na) === a.trim() && String(nb) === b.trim()) ? na - nb : a.localeCompare(b, undefined, { numeric: true });
          return ascending ? cmp : -cmp;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    // A rounded cell shows its full value (kept once, in data-v) on hover.
    table.addEventListener("mouseover", function (event) {
      var cell = event.target.closest ? event.target.closest("td[data-v]") : null;
      if (cell && !cell.title) { cell.title = cell.dataset.v; }
    });
  }

  // A check the browser test runs (report.html#selftest): real events on the first chart.
  function selftest() {
    var chart = document.querySelector(".chart.live"), result = { charts: document.querySelectorAll(".chart svg.interactive").length };
    if (chart) {
      var overlay = chart.querySelector("rect.overlay"), r = overlay.getBoundingClientRect();
      var at = function (type, fx) {
        overlay.dispatchEvent(new MouseEvent(type, { bubbles: true, clientX: r.left + r.width * fx, clientY: r.top + r.height / 2 }));
        overlay = chart.querySelector("rect.overlay"); r = overlay.getBoundingClientRect();
      };
      at("mousemove", 0.5);
      result.tooltip = !chart.querySelector(".tooltip").hidden && chart.querySelector(".tooltip").textContent.length > 0;
      at("mousedown", 0.25); at("mousemove", 0.6); at("mouseup", 0.6);
      result.zoomed = Boolean(chart.dataset.view);
      at("dblclick", 0.5);
      result.reset = !chart.dataset.view;
    }
    var table = document.querySelector("table.sortable");
    if (table && table.tBodies[0].rows.length > 1) {
      table.tHead.rows[0].cells[0].click();
      var first = table.tBodies[0].rows[0].cells[0].textContent;
      table.tHead.rows[0].cells[0].click();
      result.sorted = table.tBodies[0].rows[0].cells[0].textContent !== first || table.tBodies[0].rows.length < 2;
    }
    result.errors = errors;
    document.body.setAttribute("data-selftest", JSON.stringify(result));
  }

  document.querySelectorAll(".chart").forEach(function (chart) {
    var spec = chart.querySelector("script[type='application/json']");
    if (!spec) { return; } // a still figure: its SVG only
    try {
      var fig = JSON.parse(spec.textContent);
      var view = extent(fig);
      if (view) { draw(chart, fig, view); legend(chart, fig); chart.classList.add("live"); }
    } catch (e) { errors.push(String(e)); }
  });
  document.querySelectorAll("table.sortable").forEach(sortable);
  document.body.setAttribute("data-ready", errors.length ? "errors" : "yes");
  if (location.hash === "#selftest") { selftest(); }
})();
