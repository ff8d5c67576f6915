/* Needpool page behaviour: CSRF for htmx, kanban drag-and-drop, auto-submitting selects.
 * Plain ES2017, no build step. Vendor globals used: htmx (django-htmx), Sortable (sortablejs),
 * bootstrap (bundled inside tabler.min.js as window.tabler.bootstrap). */
(function () {
  "use strict";

  // ---- CSRF -------------------------------------------------------------------------------

  function readCookie(name) {
    var prefix = name + "=";
    var parts = document.cookie ? document.cookie.split(";") : [];
    for (var i = 0; i < parts.length; i++) {
      var part = parts[i].trim();
      if (part.indexOf(prefix) === 0) {
        return decodeURIComponent(part.slice(prefix.length));
      }
    }
    return "";
  }

  // The cookie is the source of truth (it rotates on login); the <meta> tag written by
  // base.html is the fallback when the cookie is not readable.
  function csrfToken() {
    var token = readCookie("csrftoken");
    if (token) return token;
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") || "" : "";
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });

  // A lookup panel (data-lookup-error: similar requirements, suggestions) that could not load says so.
  function lookupFailed(event) {
    var el = event.detail && (event.detail.target || event.detail.elt);
    var panel = el && el.closest ? el.closest("[data-lookup-error]") : null;
    if (!panel) return;
    var note = document.createElement("p");
    note.className = "text-danger small m-0 lookup-error";
    note.setAttribute("role", "alert");
    note.textContent = panel.getAttribute("data-lookup-error");
    panel.replaceChildren(note);
  }
  document.addEventListener("htmx:responseError", lookupFailed);
  document.addEventListener("htmx:sendError", lookupFailed);

  // ---- Alerts -----------------------------------------------------------------------------

  // Replaces the content of `container` with one dismissible Bootstrap alert.
  // Text goes in through textContent: server messages are never parsed as HTML.
  function showAlert(container, kind, message) {
    if (!container) return;
    var alert = document.createElement("div");
    alert.className = "alert alert-" + kind + " alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    var text = document.createElement("div");
    text.className = "alert-text";
    text.textContent = message;
    alert.appendChild(text);
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", container.getAttribute("data-close-label") || "关闭");
    alert.appendChild(close);
    container.replaceChildren(alert);
  }

  // ---- Kanban -----------------------------------------------------------------------------
  // Markup contract (see base.html users):
  //   #kanban-messages                              alert area (optional data-error-text, data-close-label)
  //   .kanban-column[data-status="<key>"]           one per status
  //     .kanban-count                               card count badge in the column header
  //     .kanban-cards                               drop zone holding the cards (falls back to the column)
  //       .kanban-card[data-transition-url][data-status]
  //         .kanban-card-status (optional)          text replaced by status_label on success

  var CARD = ".kanban-card[data-transition-url]";

  function dropZone(column) {
    return column.querySelector(".kanban-cards") || column;
  }

  // Each column carries the server's total (data-total: the board shows only the newest cards),
  // adjusted by one on every accepted move.
  function updateKanbanCounts(root) {
    (root || document).querySelectorAll(".kanban-column[data-status]").forEach(function (column) {
      var total = column.getAttribute("data-total");
      var count = total === null ? dropZone(column).querySelectorAll(".kanban-card").length : Number(total);
      column.querySelectorAll(".kanban-count").forEach(function (badge) {
        badge.textContent = String(count);
      });
    });
  }

  function shiftTotal(column, delta) {
    if (!column || column.getAttribute("data-total") === null) return;
    column.setAttribute("data-total", String(Number(column.getAttribute("data-total")) + delta));
  }

  function putBack(card, parent, index) {
    var ref = parent.children[index] || null;
    parent.insertBefore(card, ref);
  }

  function transitionCard(card, from, fromIndex, toColumn) {
    var target = toColumn.getAttribute("data-status");
    var messages = document.getElementById("kanban-messages");
    var fallback =
      (messages && messages.getAttribute("data-error-text")) || "状态变更失败，请刷新页面后重试。";
    var body = new URLSearchParams();
    body.set("to", target);
    // The status the card showed: a move from a board that is out of date is refused (409) with the current one.
    body.set("from", card.getAttribute("data-status") || "");

    card.classList.add("kanban-card-pending");
    card.setAttribute("aria-busy", "true");

    return fetch(card.getAttribute("data-transition-url"), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "X-CSRFToken": csrfToken(),
        "X-Requested-With": "fetch",
        Accept: "application/json",
        "Content-Type": "application/x-www-form-urlencoded;charset=UTF-8",
      },
      body: body,
    })
      .then(function (response) {
        return response
          .json()
          .catch(function () {
            return {};
          })
          .then(function (data) {
            return { response: response, data: data || {} };
          });
      })
      .then(function (result) {
        var data = result.data;
        if (result.response.ok && data.ok) {
          card.setAttribute("data-status", target);
          shiftTotal(from.closest(".kanban-column[data-status]"), -1);
          shiftTotal(toColumn, 1);
          var label = card.querySelector(".kanban-card-status");
          if (label && data.status_label) label.textContent = data.status_label;
          showAlert(messages, "success", data.message || "");
        } else {
          putBack(card, from, fromIndex);
          showAlert(messages, "danger", data.message || fallback);
        }
      })
      .catch(function () {
        putBack(card, from, fromIndex);
        showAlert(messages, "danger", fallback);
      })
      .then(function () {
        card.classList.remove("kanban-card-pending");
        card.removeAttribute("aria-busy");
        updateKanbanCounts();
      });
  }

  function initKanban(root) {
    if (typeof window.Sortable === "undefined") return;
    var scope = root && root.querySelectorAll ? root : document;
    var columns = Array.prototype.slice.call(scope.querySelectorAll(".kanban-column[data-status]"));
    if (scope.matches && scope.matches(".kanban-column[data-status]")) columns.push(scope);
    // Only a board with movable cards gets drag-and-drop (its empty columns still accept drops).
    if (columns.length === 0 || !document.querySelector(CARD)) return;

    columns.forEach(function (column) {
      var zone = dropZone(column);
      if (zone.getAttribute("data-kanban-ready")) return;
      zone.setAttribute("data-kanban-ready", "1");
      window.Sortable.create(zone, {
        group: "kanban",
        draggable: CARD,
        filter: ".kanban-card-pending",
        preventOnFilter: true,
        animation: 150,
        emptyInsertThreshold: 24,
        delay: 150,
        delayOnTouchOnly: true, // keeps vertical scrolling usable on phones
        ghostClass: "kanban-card-ghost",
        chosenClass: "kanban-card-chosen",
        onEnd: function (event) {
          if (event.to === event.from) return; // reordering inside a column is not persisted
          var card = event.item;
          var toColumn = event.to.closest(".kanban-column[data-status]");
          // oldIndex counts the original column's children (Sortable's hidden clone excluded),
          // which is exactly the slot a refused card goes back to.
          transitionCard(card, event.from, event.oldIndex, toColumn);
        },
      });
    });
    updateKanbanCounts();
  }

  // ---- Kanban: a column's next cards (htmx; see requirements/_board_footer.html) -------------
  //   .kanban-column .kanban-more [hx-get]          "显示更多", or the loader of a collapsed column
  //   .kanban-card[data-home]                       the column the server read the card for
  // The server pages a column by offset; a drag changes what the column holds, so the offset sent is the
  // number of the column's own cards still in it (a card dragged in is not counted, one dragged out is not
  // there). A card the answer brings that the board already shows is kept once (see dropDuplicate).

  function columnOf(el) {
    return el && el.closest ? el.closest(".kanban-column[data-status]") : null;
  }

  function ownCards(column) {
    var key = column.getAttribute("data-status");
    return Array.prototype.filter.call(dropZone(column).querySelectorAll(".kanban-card"), function (card) {
      return card.getAttribute("data-home") === key;
    }).length;
  }

  document.addEventListener("htmx:configRequest", function (event) {
    var elt = event.detail.elt;
    var column = elt && elt.closest && elt.closest(".kanban-more") ? columnOf(elt) : null;
    if (!column) return;
    var url = new URL(event.detail.path, window.location.href);
    url.searchParams.set("offset", String(ownCards(column)));
    event.detail.path = url.pathname + url.search;
  });

  // A card that came with a column's next cards while the board already shows it: the copy in this column
  // stays where it is (now counted as the column's own); a copy elsewhere is out of date (moved by someone
  // else since the board opened) and goes, unless it is being moved right now.
  function dropDuplicate(card) {
    var column = columnOf(card);
    if (!column) return;
    var others = Array.prototype.filter.call(
      document.querySelectorAll('.kanban-card[data-id="' + card.getAttribute("data-id") + '"]'),
      function (other) {
        return other !== card;
      }
    );
    others.forEach(function (other) {
      if (columnOf(other) === column || other.classList.contains("kanban-card-pending")) {
        if (columnOf(other) === column) other.setAttribute("data-home", column.getAttribute("data-status"));
        if (card.parentNode) card.parentNode.removeChild(card);
      } else {
        other.parentNode.removeChild(other);
      }
    });
  }

  function loadFailed(event) {
    var elt = event.detail && event.detail.elt;
    if (!elt || !elt.closest || !elt.closest(".kanban-more")) return;
    var messages = document.getElementById("kanban-messages");
    showAlert(messages, "danger", (messages && messages.getAttribute("data-load-error-text")) || "");
  }
  document.addEventListener("htmx:responseError", loadFailed);
  document.addEventListener("htmx:sendError", loadFailed);

  // "加入评审" takes the cards the column shows now (more may have been loaded, some dragged in or out).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest(".kanban-review") : null;
    var column = columnOf(link);
    if (!column) return;
    var ids = Array.prototype.map.call(dropZone(column).querySelectorAll(".kanban-card[data-id]"), function (card) {
      return card.getAttribute("data-id");
    });
    var url = new URL(link.getAttribute("href"), window.location.href);
    url.searchParams.set("ids", ids.slice(0, 200).join(","));
    link.setAttribute("href", url.pathname + url.search);
  });

  // ---- <select data-autosubmit> -----------------------------------------------------------

  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!(select instanceof HTMLSelectElement) || !select.hasAttribute("data-autosubmit")) return;
    var form = select.form;
    if (!form) return;
    // requestSubmit fires the submit event, so htmx-enhanced forms and validation still work.
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  });

  // ---- Progress bars: <div class="progress-bar" data-percent="42"> ------------------------------
  // The width comes from the data attribute (the Content-Security-Policy allows no style="…" of our own).

  function sizeProgressBars(root) {
    var scope = root && root.querySelectorAll ? root : document;
    var bars = Array.prototype.slice.call(scope.querySelectorAll(".progress-bar[data-percent]"));
    if (scope.matches && scope.matches(".progress-bar[data-percent]")) bars.push(scope);
    bars.forEach(function (bar) {
      var percent = Math.min(Math.max(Number(bar.getAttribute("data-percent")) || 0, 0), 100);
      bar.style.width = percent + "%";
    });
  }

  // ---- Suggested type and tags (suggest/_text_hint.html) ------------------------------------
  // A click fills the form's field (#id_type / the tags checkbox); nothing is saved until the form is.

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest(".suggest-apply") : null;
    if (!button) return;
    var form = button.closest("form") || document;
    if (button.dataset.field === "type") {
      var select = form.querySelector("#id_type");
      if (select) {
        select.value = button.dataset.pk;
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
    } else {
      var boxes = form.querySelectorAll('input[name="tags"]');
      for (var i = 0; i < boxes.length; i++) {
        if (boxes[i].value === button.dataset.pk) {
          boxes[i].checked = true;
          boxes[i].dispatchEvent(new Event("change", { bubbles: true }));
        }
      }
    }
    button.classList.add("active");
  });

  // ---- Start ------------------------------------------------------------------------------

  function onReady(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  onReady(function () {
    document.documentElement.classList.add("js");
    sizeProgressBars(document);
    initKanban(document);
  });
  // Content swapped in by htmx gets the same treatment.
  document.addEventListener("htmx:load", function (event) {
    var elt = event.detail && event.detail.elt ? event.detail.elt : document;
    sizeProgressBars(elt);
    if (elt.matches && elt.matches(".kanban-card")) {
      dropDuplicate(elt);
      // The board's first movable card may be one a column brought now: wire the whole board.
      initKanban(document);
    } else {
      initKanban(elt);
    }
  });

  window.needpool = {
    csrfToken: csrfToken,
    showAlert: showAlert,
    initKanban: initKanban,
    updateKanbanCounts: updateKanbanCounts,
  };
})();
