/* Needpool delivery: Gantt charts of plans, iterations and the roadmap (frappe-gantt), read-only.
 *
 * Markup contract (templates/delivery/_gantt.html):
 *   <div class="delivery-gantt" id="X" data-gantt-data="X-data"></div>
 *   <script id="X-data" type="application/json">[{id, name, start, end, progress, dependencies,
 *                                               custom_class, owner, status}]</script>
 *   <button data-gantt-mode="Day|Week|Month" data-gantt-target="X"> switches the time scale.
 * Each chart is kept on window.needpoolGantts[X]. Plain ES2017, no build step. */
(function () {
  "use strict";

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

  // frappe-gantt writes a task's name into the chart (and its popup) as HTML: every text is escaped first.
  function escapeHtml(text) {
    return String(text == null ? "" : text)
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&#39;");
  }

  function details(task) {
    var parts = [task.start + " — " + task.end];
    if (task.owner) parts.push(escapeHtml(task.owner));
    if (task.status) parts.push(escapeHtml(task.status));
    return parts.join(" · ");
  }

  function earliest(rows) {
    return rows.reduce(function (first, row) {
      return !first || row.start < first ? row.start : first;
    }, "");
  }

  function draw(el) {
    var rows = readJson(el.getAttribute("data-gantt-data"));
    if (!rows || !rows.length || typeof window.Gantt !== "function") return;
    rows = rows.map(function (row) {
      return Object.assign({}, row, { name: escapeHtml(row.name) });
    });
    var lang = (document.documentElement.getAttribute("lang") || "zh").toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
    var chart = new window.Gantt(el, rows, {
      view_mode: "Week",
      readonly: true,
      language: lang,
      container_height: "auto",
      today_button: false,
      // Open on the first bar, not on today (a plan may lie wholly in the past or the future).
      scroll_to: earliest(rows),
      // Weekend shading is drawn with style attributes, which the Content-Security-Policy refuses.
      holidays: null,
      popup_on: "click",
      popup: function (ctx) {
        ctx.set_title(ctx.task.name);
        ctx.set_subtitle(details(ctx.task));
        ctx.set_details("");
      },
    });
    window.needpoolGantts = window.needpoolGantts || {};
    window.needpoolGantts[el.id] = chart;
    el.setAttribute("data-gantt-ready", "1");
  }

  function switchMode(button) {
    var chart = (window.needpoolGantts || {})[button.getAttribute("data-gantt-target")];
    if (!chart) return;
    chart.change_view_mode(button.getAttribute("data-gantt-mode"));
    var group = button.parentNode.querySelectorAll("[data-gantt-mode]");
    for (var i = 0; i < group.length; i++) group[i].classList.toggle("active", group[i] === button);
  }

  onReady(function () {
    var charts = document.querySelectorAll(".delivery-gantt[data-gantt-data]");
    for (var i = 0; i < charts.length; i++) draw(charts[i]);
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-gantt-mode]");
      if (button) switchMode(button);
    });
  });
})();
