/* Needpool analysis desk: the urgency × importance matrix and the value × effort chart (ECharts),
 * override tooltips, and the copy button of the Kano link. Plain ES2017, no build step.
 *
 * Markup contract:
 *   #matrix-chart        + <script id="matrix-data">[{id, code, title, priority, urgency, importance, url,
 *                                                  computed, overridden, reason}]</script>
 *                          an overridden point is drawn twice: filled in its effective priority's colour and,
 *                          around it, a hollow ring in the computed priority's colour; the tooltip names both.
 *                        + <script id="matrix-config">{cutoff, labels: {...}}</script>
 *   #value-effort-chart  + <script id="value-effort-data">[{id, code, title, priority, value, effort, url}]</script>
 *   [data-copy-target="#input"]  copies that input's value
 * The chart instances are window.needpoolMatrixChart and window.needpoolValueEffortChart; clicking a
 * point opens its url (the requirement's analysis page). */
(function () {
  "use strict";

  var COLORS = { P0: "#d63939", P1: "#f76707", P2: "#206bc4", P3: "#667382", "": "#a8afb9" };
  var ORDER = ["P0", "P1", "P2", "P3", ""];
  var GOLDEN_ANGLE = 2.399963229728653;
  var LABEL_BAND = 0.4;

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  function escapeHtml(text) {
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  // Points on the same spot are spread on a small disc (a golden-angle spiral), the same way on
  // every load, so each stays clickable and the chart does not jump between visits.
  function jitter(points, xKey, yKey, rx, ry) {
    var groups = {};
    points.forEach(function (p) {
      var key = p[xKey] + ":" + p[yKey];
      (groups[key] = groups[key] || []).push(p);
    });
    Object.keys(groups).forEach(function (key) {
      var group = groups[key];
      group.forEach(function (p, i) {
        if (group.length === 1) {
          p.jx = Number(p[xKey]);
          p.jy = Number(p[yKey]);
          return;
        }
        var r = Math.sqrt((i + 0.5) / group.length);
        var angle = i * GOLDEN_ANGLE;
        p.jx = Number(p[xKey]) + rx * r * Math.cos(angle);
        p.jy = Number(p[yKey]) + ry * r * Math.sin(angle);
      });
    });
    return points;
  }

  function priorityName(labels, p) {
    return (labels.priorities && labels.priorities[p]) || p || "—";
  }

  // One series per priority, always all of them: the legend keeps every priority even with no points.
  function seriesByPriority(points, labels, toDatum, symbolSize) {
    return ORDER.map(function (p) {
      return {
        name: priorityName(labels, p),
        type: "scatter",
        symbolSize: symbolSize,
        itemStyle: { color: COLORS[p], borderColor: "#fff", borderWidth: 1, opacity: 0.9 },
        emphasis: { scale: 1.4, itemStyle: { opacity: 1 } },
        cursor: "pointer",
        data: points
          .filter(function (pt) {
            return (pt.priority || "") === p;
          })
          .map(toDatum),
      };
    });
  }

  // The computed priority of each overridden point, as a hollow ring around the effective (filled) point.
  function computedSeries(points, labels, toDatum, symbolSize) {
    return {
      name: labels.computedSeries || "computed",
      type: "scatter",
      z: 1,
      symbolSize: symbolSize + 10,
      cursor: "pointer",
      emphasis: { scale: 1.2 },
      data: points
        .filter(function (pt) {
          return pt.overridden && pt.computed && pt.computed !== (pt.priority || "");
        })
        .map(function (pt) {
          var datum = toDatum(pt);
          datum.hollow = true;
          datum.itemStyle = {
            color: "rgba(255, 255, 255, 0)",
            borderColor: COLORS[pt.computed] || COLORS[""],
            borderWidth: 2.5,
          };
          return datum;
        }),
      itemStyle: { color: "rgba(255, 255, 255, 0)", borderColor: COLORS[""], borderWidth: 2.5 },
    };
  }

  function priorityLines(labels, d) {
    var lines = [(labels.priority || "priority") + " " + (d.priority || "—")];
    if (d.overridden) {
      lines[0] += " · " + (labels.overridden || "override");
      lines.push((labels.computed || "computed") + " " + (d.computed || "—"));
      if (d.reason) lines.push((labels.reason || "reason: ") + d.reason);
    }
    return lines;
  }

  function tooltip(lines) {
    // No sliding into place: on its way a tooltip could cross the screen's edge, and a phone then zooms the
    // whole page out for good.
    return {
      trigger: "item",
      confine: true,
      transitionDuration: 0,
      formatter: function (params) {
        if (params.componentType !== "series" || !params.data) return "";
        var d = params.data;
        var head = "<strong>" + escapeHtml(d.code) + "</strong> " + escapeHtml(d.title);
        return head + "<br>" + lines(d).map(escapeHtml).join("<br>");
      },
    };
  }

  function openOnClick(chart) {
    chart.on("click", function (params) {
      if (params.componentType === "series" && params.data && params.data.url) {
        window.location.href = params.data.url;
      }
    });
  }

  function watchSize(el, chart) {
    el.style.overflow = "hidden"; // the (confined) tooltip never widens the page

    if (typeof window.ResizeObserver === "function") {
      new window.ResizeObserver(function () {
        chart.resize();
      }).observe(el);
    } else {
      window.addEventListener("resize", function () {
        chart.resize();
      });
    }
  }

  function small() {
    return window.matchMedia && window.matchMedia("(max-width: 575.98px)").matches;
  }

  // ---- urgency × importance ----------------------------------------------------------------

  function quadrantAreas(cut, labels) {
    var q = labels.quadrants || {};
    function area(name, color, position, x0, y0, x1, y1) {
      return [
        {
          name: name,
          xAxis: x0,
          yAxis: y0,
          itemStyle: { color: color },
          label: { position: position, color: "#495057", fontSize: small() ? 10 : 12, fontWeight: 600 },
        },
        { xAxis: x1, yAxis: y1 },
      ];
    }
    return [
      area(q.P0, "rgba(214, 57, 57, 0.07)", "insideTopRight", cut, cut, 5.5, 5.5 + LABEL_BAND),
      area(q.P1, "rgba(247, 103, 7, 0.07)", "insideTopLeft", 0.5, cut, cut, 5.5 + LABEL_BAND),
      area(q.P2, "rgba(32, 107, 196, 0.07)", "insideBottomRight", cut, 0.5 - LABEL_BAND, 5.5, cut),
      area(q.P3, "rgba(102, 115, 130, 0.06)", "insideBottomLeft", 0.5, 0.5 - LABEL_BAND, cut, cut),
    ];
  }

  // ``band`` widens the axis beyond 0.5–5.5 so the quadrant labels get a strip of their own above
  // and below the points (a jittered point reaches at most ±0.33 from its score).
  function scoreAxis(name, band) {
    var extra = band || 0;
    return {
      type: "value",
      min: 0.5 - extra,
      max: 5.5 + extra,
      name: name,
      nameLocation: "middle",
      nameGap: 28,
      axisTick: { customValues: [1, 2, 3, 4, 5] },
      axisLabel: { customValues: [1, 2, 3, 4, 5] },
      splitLine: { show: false },
    };
  }

  function initMatrix() {
    var el = document.getElementById("matrix-chart");
    var points = readJson("matrix-data");
    var config = readJson("matrix-config") || {};
    if (!el || !points || !points.length || typeof window.echarts === "undefined") return;
    var labels = config.labels || {};
    var cut = Number(config.cutoff || 3) - 0.5;
    jitter(points, "urgency", "importance", 0.33, 0.33);

    var series = seriesByPriority(
      points,
      labels,
      function (pt) {
        return {
          value: [pt.jx, pt.jy],
          id: pt.id,
          code: pt.code,
          title: pt.title,
          url: pt.url,
          urgency: pt.urgency,
          importance: pt.importance,
          priority: pt.priority,
          computed: pt.computed,
          overridden: !!pt.overridden,
          reason: pt.reason,
        };
      },
      small() ? 11 : 14
    );
    var size = small() ? 11 : 14;
    var rings = computedSeries(
      points,
      labels,
      function (pt) {
        return {
          value: [pt.jx, pt.jy],
          id: pt.id,
          code: pt.code,
          title: pt.title,
          url: pt.url,
          urgency: pt.urgency,
          importance: pt.importance,
          priority: pt.priority,
          computed: pt.computed,
          overridden: true,
          reason: pt.reason,
        };
      },
      size
    );
    series.forEach(function (s) {
      s.z = 2;
    });
    if (rings.data.length) series.push(rings);
    // The quadrants and the cutoff lines ride on a series without points of its own.
    series.unshift({
      name: "quadrants",
      type: "scatter",
      data: [],
      silent: true,
      markArea: { silent: true, data: quadrantAreas(cut, labels) },
      markLine: {
        silent: true,
        symbol: "none",
        lineStyle: { type: "dashed", color: "#868e96", width: 1 },
        label: { show: false },
        data: [{ xAxis: cut }, { yAxis: cut }],
      },
    });

    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      legend: {
        top: 0,
        data: series.slice(1).map(function (s) {
          return s.name;
        }),
      },
      grid: { left: 44, right: 16, top: small() ? 56 : 36, bottom: 44 },
      tooltip: tooltip(function (d) {
        return [
          (labels.urgency || "urgency") + " " + d.urgency + " · " + (labels.importance || "importance") + " " + d.importance,
        ].concat(priorityLines(labels, d));
      }),
      xAxis: scoreAxis(labels.urgency),
      yAxis: scoreAxis(labels.importance, LABEL_BAND),
      series: series,
    });
    openOnClick(chart);
    watchSize(el, chart);
    el.setAttribute("data-chart-ready", "1");
    window.needpoolMatrixChart = chart;
  }

  // ---- value × effort ------------------------------------------------------------------------

  function initValueEffort() {
    var el = document.getElementById("value-effort-chart");
    var points = readJson("value-effort-data");
    var config = readJson("matrix-config") || {};
    if (!el || !points || !points.length || typeof window.echarts === "undefined") return;
    var labels = config.labels || {};
    var maxEffort = points.reduce(function (m, p) {
      return Math.max(m, Number(p.effort) || 0);
    }, 0);
    jitter(points, "effort", "value", Math.max(maxEffort, 1) * 0.025, 0.3);

    var series = seriesByPriority(
      points,
      labels,
      function (pt) {
        return {
          value: [pt.jx, pt.jy],
          id: pt.id,
          code: pt.code,
          title: pt.title,
          url: pt.url,
          effort: pt.effort,
          score: pt.value,
          priority: pt.priority,
        };
      },
      small() ? 10 : 12
    );
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      legend: {
        top: 0,
        data: series.map(function (s) {
          return s.name;
        }),
      },
      grid: { left: 44, right: 16, top: 36, bottom: 44 },
      tooltip: tooltip(function (d) {
        return [(labels.value || "value") + " " + d.score + " · " + (labels.effort || "effort") + " " + d.effort];
      }),
      xAxis: {
        type: "value",
        min: 0,
        max: function (extent) {
          return Math.ceil(extent.max * 1.15) || 1; // room on the right for the last point
        },
        name: labels.effort,
        nameLocation: "middle",
        nameGap: 28,
        splitLine: { show: false },
      },
      yAxis: scoreAxis(labels.value),
      series: series,
    });
    openOnClick(chart);
    watchSize(el, chart);
    el.setAttribute("data-chart-ready", "1");
    window.needpoolValueEffortChart = chart;
  }

  // ---- small page helpers ------------------------------------------------------------------

  function initTooltips(root) {
    var bs = (window.tabler && window.tabler.bootstrap) || window.bootstrap;
    if (!bs || !bs.Tooltip) return;
    (root || document).querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      // The page, not the scrolling table, bounds the tooltip: it can then sit above the row.
      bs.Tooltip.getOrCreateInstance(el, { boundary: document.body });
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-copy-target]") : null;
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy-target"));
    if (!input) return;
    var done = function () {
      var original = button.textContent;
      button.textContent = button.getAttribute("data-copied-text") || original;
      window.setTimeout(function () {
        button.textContent = original;
      }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () {
        input.select();
      });
    } else {
      input.select();
      try {
        document.execCommand("copy");
        done();
      } catch (e) {
        /* the text stays selected for a manual copy */
      }
    }
  });

  onReady(function () {
    initMatrix();
    initValueEffort();
    initTooltips(document);
  });
  document.addEventListener("htmx:load", function (event) {
    initTooltips(event.detail && event.detail.elt ? event.detail.elt : document);
  });
})();
