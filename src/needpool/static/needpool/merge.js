/* The merge page: keep the summary in step with the chosen survivor (what the other rows would bring). */
(function () {
  "use strict";

  function init() {
    var form = document.getElementById("merge-form");
    var summary = document.getElementById("merge-summary");
    if (!form || !summary) return;
    form.addEventListener("change", function (event) {
      if (event.target.name !== "survivor") return;
      var totals = [0, 0, 0, 0];
      var code = "";
      form.querySelectorAll(".merge-row").forEach(function (row) {
        if (row.dataset.id === event.target.value) {
          code = row.dataset.code;
          return;
        }
        row.dataset.counts.split(",").forEach(function (n, i) {
          totals[i] += Number(n);
        });
      });
      var values = { code: code, f: totals[0], c: totals[1], a: totals[2], w: totals[3] };
      summary.textContent = summary.dataset.template.replace(/\{(\w+)\}/g, function (m, key) {
        return values[key] !== undefined && values[key] !== null ? values[key] : m;
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
