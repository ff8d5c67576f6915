/* Lists: select rows for bulk edit / export (select the page, count, cap), the bulk bar's value chooser.
   The kanban's collapsible columns live in the board's own script block (see board.html). */
(function () {
  "use strict";

  function boxes() {
    return Array.prototype.slice.call(document.querySelectorAll("#requirement-table .merge-select"));
  }

  function checked() {
    return boxes().filter(function (box) {
      return box.checked;
    });
  }

  function refreshCount() {
    var label = document.getElementById("selected-count");
    var all = document.getElementById("select-page");
    var picked = checked();
    if (label) {
      var template = label.getAttribute("data-template") || "%(n)s";
      label.textContent = template.replace("%(n)s", String(picked.length));
    }
    if (all) {
      var every = boxes();
      all.checked = every.length > 0 && picked.length === every.length;
      all.indeterminate = picked.length > 0 && picked.length < every.length;
    }
  }

  function showValueFor(action) {
    document.querySelectorAll("#bulk-form .bulk-value").forEach(function (select) {
      var mine = select.getAttribute("data-action") === action;
      select.hidden = !mine;
      select.disabled = !mine;
    });
  }

  function alertText(bar, key) {
    return (bar && bar.getAttribute(key)) || "";
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) && !(target instanceof HTMLSelectElement)) return;
    if (target.id === "select-page") {
      boxes().forEach(function (box) {
        box.checked = target.checked;
      });
      refreshCount();
    } else if (target.classList.contains("merge-select")) {
      refreshCount();
    } else if (target.id === "bulk-action") {
      showValueFor(target.value);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || form.id !== "bulk-form") return;
    var bar = document.getElementById("bulk-bar");
    var picked = checked();
    var max = Number((bar && bar.getAttribute("data-max")) || 500);
    if (picked.length === 0 || picked.length > max) {
      event.preventDefault();
      window.alert(alertText(bar, picked.length === 0 ? "data-none" : "data-too-many"));
      return;
    }
    form.querySelectorAll("input.bulk-picked").forEach(function (input) {
      input.remove();
    });
    picked.forEach(function (box) {
      [
        ["ids", box.value],
        ["v", box.value + ":" + (box.getAttribute("data-version") || "")],
      ].forEach(function (pair) {
        var input = document.createElement("input");
        input.type = "hidden";
        input.className = "bulk-picked";
        input.name = pair[0];
        input.value = pair[1];
        form.appendChild(input);
      });
    });
  });

  function init() {
    var action = document.getElementById("bulk-action");
    if (action) showValueFor(action.value);
    refreshCount();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
