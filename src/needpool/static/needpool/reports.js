/* Needpool reports: draws every chart of a report document with ECharts. Plain ES2017, no build step.
 *
 * Markup contract (templates/reports/_chart.html):
 *   <div class="report-chart" id="…" data-chart-data="<json id>" data-kind="bar|hbar|line|pie|funnel|stacked">
 *   <script type="application/json" id="<json id>">{kind, title, categories, series: [{name, values}], hrefs,
 *                                                  unit, unitLabel}</script>
 * A click on a bar, slice, point or category label opens hrefs[i], the list that element counts. Without
 * scripts (or ECharts) the table under 〈查看数据〉 carries the same numbers.
 * The drawn charts are in window.needpoolReportCharts, by element id; a drawn element gets data-chart-ready. */
(function () {
  "use strict";

  var charts = {};
  window.needpoolReportCharts = charts;

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function readJson(id) {
    var el = id && document.getElementById(id);
    if (!el) return null;
    try {
      return JSON.parse(el.textContent);
    } catch (e) {
      return null;
    }
  }

  function small() {
    return window.matchMedia && window.matchMedia("(max-width: 575.98px)").matches;
  }

  function formatNumber(value) {
    if (value === null || value === undefined || value === "") return "—";
    var n = Number(value);
    if (!isFinite(n)) return String(value);
    return n === Math.round(n) ? String(n) : n.toFixed(1);
  }

  function withUnit(data) {
    return function (value) {
      var text = formatNumber(value);
      if (text === "—" || !data.unitLabel) return text;
      return data.unit === "%" ? text + "%" : text + " " + data.unitLabel;
    };
  }

  function tooltip(data, trigger) {
    // Confined, and without sliding into place: a tooltip crossing the screen's edge makes a phone zoom out.
    return { trigger: trigger, confine: true, transitionDuration: 0, valueFormatter: withUnit(data) };
  }

  function hrefAt(data, index) {
    return (data.hrefs && data.hrefs[index]) || "";
  }

  function datum(data, value, index) {
    return { value: value, href: hrefAt(data, index), index: index };
  }

  function legend(data) {
    if (data.series.length < 2) return { show: false };
    return { show: true, type: "scroll", top: 0 };
  }

  // A label's width in pixels, roughly: a CJK character is about 12px at ECharts' default size, others 7px.
  function textWidth(text) {
    var width = 0;
    for (var i = 0; i < text.length; i++) width += text.charCodeAt(i) > 0x2e80 ? 12 : 7;
    return width;
  }

  // Category labels lie flat while they fit side by side, and slant when they would overlap.
  function categoryLabel(categories, horizontal, available) {
    var label = { hideOverlap: false, interval: 0 };
    if (horizontal) {
      label.width = small() ? 88 : 150;
      label.overflow = "truncate";
      return label;
    }
    var widest = categories.reduce(function (m, c) {
      return Math.max(m, textWidth(String(c)));
    }, 0);
    if (categories.length * (widest + 10) > available - 48) {
      label.rotate = 35;
      label.width = 90;
      label.overflow = "truncate";
      // Too many even slanted (a year of weeks): ECharts shows every n-th label.
      if (categories.length * 16 > available - 48) delete label.interval;
    }
    return label;
  }

  // Counts step by whole numbers; a percentage says so on its axis.
  function valueAxis(data) {
    var axis = { type: "value" };
    if (data.unit === "count") axis.minInterval = 1;
    if (data.unit === "%") axis.axisLabel = { formatter: "{value}%" };
    return axis;
  }

  function hasValues(data) {
    return data.series.some(function (s) {
      return s.values.some(function (v) {
        return v !== null && v !== undefined && Number(v) !== 0;
      });
    });
  }

  function barLike(data, horizontal, stacked, available) {
    var category = {
      type: "category",
      data: data.categories,
      triggerEvent: true,
      axisLabel: categoryLabel(data.categories, horizontal, available),
      axisTick: { alignWithLabel: true },
    };
    var value = valueAxis(data);
    if (horizontal) category.inverse = true; // the first category on top, as in the table
    return {
      legend: legend(data),
      tooltip: tooltip(data, stacked ? "axis" : "item"),
      grid: { left: 8, right: 16, top: data.series.length > 1 ? 32 : 12, bottom: 8, outerBoundsMode: "same" },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "bar",
          stack: stacked ? "total" : undefined,
          barMaxWidth: 36,
          cursor: "pointer",
          data: s.values.map(function (v, i) {
            return datum(data, v, i);
          }),
        };
      }),
    };
  }

  function line(data, available) {
    return {
      legend: legend(data),
      tooltip: tooltip(data, "axis"),
      grid: { left: 8, right: 16, top: data.series.length > 1 ? 32 : 12, bottom: 8, outerBoundsMode: "same" },
      xAxis: {
        type: "category",
        data: data.categories,
        boundaryGap: false,
        triggerEvent: true,
        axisLabel: categoryLabel(data.categories, false, available),
      },
      yAxis: valueAxis(data),
      series: data.series.map(function (s) {
        return {
          name: s.name,
          type: "line",
          symbolSize: 8,
          connectNulls: false,
          cursor: "pointer",
          data: s.values.map(function (v, i) {
            return datum(data, v, i);
          }),
        };
      }),
    };
  }

  function named(data) {
    var values = (data.series[0] && data.series[0].values) || [];
    return data.categories.map(function (name, i) {
      return { name: name, value: values[i], href: hrefAt(data, i), index: i };
    });
  }

  function pie(data) {
    var phone = small();
    return {
      tooltip: { trigger: "item", confine: true, transitionDuration: 0, valueFormatter: withUnit(data) },
      legend: phone ? { type: "scroll", bottom: 0 } : { show: false },
      series: [
        {
          name: (data.series[0] && data.series[0].name) || data.title,
          type: "pie",
          radius: phone ? ["32%", "58%"] : ["38%", "66%"],
          center: ["50%", phone ? "45%" : "50%"],
          avoidLabelOverlap: true,
          stillShowZeroSum: false, // nothing counted: no slices, not equal ones
          percentPrecision: 1,
          cursor: "pointer",
          label: { show: !phone, formatter: "{b}\n{d}%", overflow: "truncate", width: 110 },
          data: named(data),
        },
      ],
    };
  }

  function funnel(data) {
    return {
      tooltip: { trigger: "item", confine: true, transitionDuration: 0, valueFormatter: withUnit(data) },
      series: [
        {
          name: (data.series[0] && data.series[0].name) || data.title,
          type: "funnel",
          sort: "none", // the order of the statuses, not of the counts
          left: 8,
          width: "58%",
          top: 8,
          bottom: 8,
          minSize: "4%",
          gap: 2,
          cursor: "pointer",
          // Beside the funnel: a step with few requirements is too narrow to hold its name.
          label: { position: "right", formatter: "{b}  {c}", color: "#495057", overflow: "truncate", width: 120 },
          labelLine: { show: true, length: 8 },
          data: named(data),
        },
      ],
    };
  }

  function option(data, available) {
    var kind = data.kind;
    // A column chart of many categories reads better lying down on a phone.
    if (kind === "bar" && small() && data.categories.length > 4) kind = "hbar";
    var built;
    if (kind === "hbar") built = barLike(data, true, false, available);
    else if (kind === "stacked") built = barLike(data, false, true, available);
    else if (kind === "line") built = line(data, available);
    else if (kind === "pie") built = pie(data);
    else if (kind === "funnel") built = funnel(data);
    else built = barLike(data, false, false, available);
    built.animation = false;
    if (!hasValues(data)) {
      built.title = {
        text: data.emptyText || "—",
        left: "center",
        top: "middle",
        textStyle: { color: "#868e96", fontSize: 14, fontWeight: "normal" },
      };
    }
    built.aria = { enabled: true };
    return { option: built, kind: kind };
  }

  function openOnClick(chart, data) {
    chart.on("click", function (params) {
      var href = "";
      if (params.componentType === "series") {
        href = (params.data && params.data.href) || hrefAt(data, params.dataIndex);
      } else if (params.componentType === "xAxis" || params.componentType === "yAxis") {
        href = hrefAt(data, data.categories.indexOf(params.value));
      }
      if (href) window.location.href = href;
    });
  }

  function watchSize(el, chart) {
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

  function draw(el) {
    var data = readJson(el.getAttribute("data-chart-data"));
    if (!data || !data.categories || !data.categories.length) return;
    el.classList.add("is-drawn");
    var built = option(data, el.clientWidth || 320);
    if (built.kind === "hbar") {
      // Room for every category: a bar per row, never squeezed below a readable height.
      el.style.height = Math.max(180, 48 + data.categories.length * (small() ? 30 : 28)) + "px";
    }
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(built.option);
    openOnClick(chart, data);
    watchSize(el, chart);
    charts[el.id] = chart;
    el.setAttribute("data-chart-ready", "1");
  }

  function drawAll(root) {
    if (typeof window.echarts === "undefined") return;
    root.querySelectorAll(".report-chart[data-chart-data]:not([data-chart-ready])").forEach(function (el) {
      try {
        draw(el);
      } catch (e) {
        el.setAttribute("data-chart-error", String(e && e.message));
      }
    });
  }

  onReady(function () {
    drawAll(document);
  });
  // A document swapped in later (the dashboard's 正在计算 panel, once its snapshot is built) is drawn the same way.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt;
    if (root && root.querySelectorAll) drawAll(root);
  });
})();
