/* Lists: select rows for bulk edit / export (select the page, count, cap), the bulk bar's value chooser, and
   the kanban's collapsed columns (a click on the column name expands or collapses it; while a card is dragged
   over a collapsed column it is highlighted: it stays a drop target, see app.js for the drop itself). */
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

  // ---- Kanban: collapsed columns ---------------------------------------------------------------
  document.addEventListener("click", function (event) {
    var toggle = event.target instanceof Element ? event.target.closest(".kanban-toggle") : null;
    if (!toggle) return;
    var column = toggle.closest(".kanban-column");
    if (!column) return;
    var collapsed = column.classList.toggle("kanban-collapsed");
    toggle.setAttribute("aria-expanded", collapsed ? "false" : "true");
  });

  function clearDropHover() {
    document.querySelectorAll(".kanban-drop-hover").forEach(function (column) {
      column.classList.remove("kanban-drop-hover");
    });
  }

  // While a card is dragged (native drag events, or SortableJS's pointer fallback), the collapsed column under
  // the pointer is highlighted as the place the card will go.
  function hoverDuringDrag(event) {
    if (!document.querySelector(".kanban-card-chosen, .kanban-card-ghost")) {
      clearDropHover();
      return;
    }
    var under = document.elementFromPoint(event.clientX, event.clientY);
    var column = under ? under.closest(".kanban-column.kanban-collapsed") : null;
    if (column && column.classList.contains("kanban-drop-hover")) return;
    clearDropHover();
    if (column) column.classList.add("kanban-drop-hover");
  }

  ["dragover", "pointermove", "mousemove", "touchmove"].forEach(function (name) {
    document.addEventListener(
      name,
      function (event) {
        var point = event.touches && event.touches[0] ? event.touches[0] : event;
        hoverDuringDrag(point);
      },
      { capture: true, passive: true }
    ); // capture: SortableJS stops the events on its drop zones
  });
  // A card let go over a collapsed column lands there, and the column opens to show it.
  function dropped() {
    var target = document.querySelector(".kanban-column.kanban-drop-hover");
    clearDropHover();
    if (!target) return;
    target.classList.remove("kanban-collapsed");
    var toggle = target.querySelector(".kanban-toggle");
    if (toggle) toggle.setAttribute("aria-expanded", "true");
  }

  ["drop", "dragend", "pointerup", "mouseup", "touchend"].forEach(function (name) {
    document.addEventListener(name, dropped, true);
  });

  function init() {
    var action = document.getElementById("bulk-action");
    if (action) showValueFor(action.value);
    refreshCount();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
