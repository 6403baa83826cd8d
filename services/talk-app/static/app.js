// StravaTalk's optional enhancement: ask without a full reload (the question shows at
// once, the answer joins the live region when it arrives, Back leaves the
// conversation), copy an answer or a new API token, sort tables by a click, and follow
// an import's progress without reloading the page. Every form works without this file.
(function () {
  "use strict";

  // Moves `keep`'s fresh siblings (from `freshKeep`'s document) around it, level by
  // level up to `stop`, so `keep` itself never leaves the page: a screen reader keeps
  // listening to a live region only while it stays in place.
  function graft(keep, freshKeep, stop) {
    while (keep !== stop && keep.parentNode && freshKeep.parentNode) {
      var parent = keep.parentNode, fparent = freshKeep.parentNode, n, before = [], after = [];
      while (keep.previousSibling) parent.removeChild(keep.previousSibling);
      while (keep.nextSibling) parent.removeChild(keep.nextSibling);
      for (n = fparent.firstChild; n && n !== freshKeep; n = n.nextSibling) before.push(n);
      for (n = freshKeep.nextSibling; n; n = n.nextSibling) after.push(n);
      before.forEach(function (x) { parent.insertBefore(document.adoptNode(x), keep); });
      after.forEach(function (x) { parent.appendChild(document.adoptNode(x)); });
      keep = parent;
      freshKeep = fparent;
    }
  }

  // Shows the server's page for `url`: the thread gains only the new answers.
  function swap(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) { location.href = url; return; }
    var list = main.querySelector("ol.exchanges"), freshList = fresh.querySelector("ol.exchanges");
    list && list.querySelectorAll("li.pending").forEach(function (li) { li.remove(); });
    if (list && freshList && freshList.children.length >= list.children.length) {
      var have = list.children.length;
      var added = Array.prototype.slice.call(freshList.children, have);
      list.querySelectorAll("#latest").forEach(function (el) { el.removeAttribute("id"); });
      // Follow-ups and "Ask again" belong under the latest answer only, as the server
      // draws them.
      list.querySelectorAll(".suggestions, .redo").forEach(function (el) { el.remove(); });
      added.forEach(function (li) { list.appendChild(document.adoptNode(li)); });
      graft(list, freshList, main);
    } else {
      main.replaceWith(fresh);
      main = fresh;
    }
    document.title = doc.title;
    // Replace, not push: one Back leaves the conversation, whatever was asked in it.
    history.replaceState(null, "", url);
    init(main);
    var latest = document.getElementById("latest");
    if (latest) latest.scrollIntoView({ block: "start" });
    var input = document.getElementById("question");
    if (input) input.focus({ preventScroll: true });
  }

  // The question in the thread at once, with an answer still to come.
  function pending(question) {
    var list = document.querySelector("ol.exchanges");
    if (!list) return;
    var li = document.createElement("li");
    li.className = "exchange pending";
    var q = document.createElement("p");
    q.className = "question";
    q.textContent = question;
    var a = document.createElement("div");
    a.className = "answer waiting";
    a.textContent = "Thinking…";
    li.appendChild(q);
    li.appendChild(a);
    list.appendChild(li);
    li.scrollIntoView({ block: "nearest" });
  }

  function submit(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    var q = data.get("question");
    if (!q || !String(q).trim()) return false;
    pending(String(q));
    var input = document.getElementById("question");
    if (input && form.id === "ask") input.value = "";
    document.querySelectorAll(".ask-form button, .ask-form input").forEach(function (el) { el.disabled = true; });
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(data),
      credentials: "same-origin",
      headers: { "Accept": "text/html" }
    }).then(function (res) {
      return res.text().then(function (text) {
        if (res.redirected && res.ok) { swap(text, res.url); } else { location.reload(); }
      });
    }).catch(function () {
      // Offline or the server went away: fall back to the plain form post.
      document.querySelectorAll("li.pending").forEach(function (li) { li.remove(); });
      document.querySelectorAll(".ask-form button, .ask-form input").forEach(function (el) { el.disabled = false; });
      if (input && form.id === "ask") input.value = String(q);
      form.dataset.plain = "1";
      if (submitter && submitter.name) { submitter.click(); } else { form.submit(); }
    });
    return true;
  }

  function sortBy(th) {
    var table = th.closest("table");
    var index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.classList.contains("num");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-v"), y = b.cells[index].getAttribute("data-v");
      var c = numeric ? (parseFloat(x) || 0) - (parseFloat(y) || 0) : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    th.parentNode.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }

  // A cell bound for a spreadsheet: one that would run as a formula (= + - @, tab,
  // carriage return first) gets a leading ' unless it is a plain number such as -5.
  // The server's CSV export follows the same rule (src/spreadsheet.rs).
  function neutral(text) {
    if (/^[=+\-@\t\r]/.test(text) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return "'" + text;
    return text;
  }

  // Copies `text`, then says so on `b` for two seconds.
  function copyText(b, text, label) {
    navigator.clipboard.writeText(text).then(function () {
      b.textContent = "Copied";
      setTimeout(function () { b.textContent = label; }, 2000);
    }, function () { b.textContent = "Copy failed"; });
  }

  // A "Copy" button under an answer: its text, then its table as tab-separated rows
  // (without the "View on Strava" links), each cell safe for a spreadsheet.
  function copyButton(answer) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "copy button small";
    b.textContent = "Copy";
    b.addEventListener("click", function () {
      var parts = [];
      var text = answer.querySelector(".text");
      if (text) parts.push(text.innerText.trim());
      answer.querySelectorAll("table").forEach(function (t) {
        parts.push(Array.prototype.map.call(t.rows, function (r) {
          return Array.prototype.filter.call(r.cells, function (c) { return !c.classList.contains("strava-col"); })
            .map(function (c) { return neutral(c.innerText.trim()); }).join("\t");
        }).join("\n"));
      });
      copyText(b, parts.join("\n\n"), "Copy");
    });
    answer.appendChild(b);
  }

  // A "Copy token" button beside a new API token, which is shown only once.
  function copyTokenButton(input) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "button small copy-token";
    b.textContent = "Copy token";
    b.addEventListener("click", function () { copyText(b, input.value, "Copy token"); });
    input.insertAdjacentElement("afterend", b);
  }

  // Polls the import's progress and updates the box in place; stops when it is done.
  function followSync(box) {
    var label = box.querySelector("label"), bar = box.querySelector("progress");
    function tick() {
      fetch("/chat/sync", { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (res) { return res.ok ? res.json() : null; })
        .then(function (p) {
          if (!p || !document.body.contains(box)) return;
          if (!p.importing) {
            var done = document.createElement("p");
            done.className = "sync done";
            done.setAttribute("role", "status");
            done.textContent = p.label || "Import finished.";
            box.replaceWith(done);
            return;
          }
          if (label) label.textContent = p.label;
          if (bar) {
            if (p.total) { bar.max = p.total; bar.value = p.synced; } else { bar.removeAttribute("value"); }
            bar.textContent = p.label;
          }
          setTimeout(tick, 2000);
        })
        .catch(function () { /* the server went away: the box stays as it was */ });
    }
    setTimeout(tick, 2000);
  }

  // Wires up what `root` holds; each element once, as swaps keep old ones in place.
  function init(root) {
    root.querySelectorAll("form.ask-form:not([data-js])").forEach(function (form) {
      form.dataset.js = "1";
      form.addEventListener("submit", function (e) {
        if (!form.dataset.plain && submit(form, e.submitter)) e.preventDefault();
      });
    });
    root.querySelectorAll("table.sortable:not([data-js])").forEach(function (table) {
      table.dataset.js = "1";
      table.querySelectorAll("th:not(.strava-col)").forEach(function (th) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "sort";
        b.textContent = th.textContent;
        b.addEventListener("click", function () { sortBy(th); });
        th.textContent = "";
        th.appendChild(b);
      });
    });
    if (navigator.clipboard) {
      root.querySelectorAll(".exchange .answer:not([data-js]):not(.waiting):not(.clarify)").forEach(function (answer) {
        answer.dataset.js = "1";
        copyButton(answer);
      });
    }
    if (navigator.clipboard) {
      root.querySelectorAll("input#new-token:not([data-js])").forEach(function (input) {
        input.dataset.js = "1";
        copyTokenButton(input);
      });
    }
    root.querySelectorAll(".sync:not(.done):not([data-js])").forEach(function (box) {
      box.dataset.js = "1";
      followSync(box);
    });
    // A zone picker with nothing chosen starts at the browser's zone, when listed.
    var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
    root.querySelectorAll("select[data-browser-zone]").forEach(function (select) {
      if (zone && !select.value && select.querySelector('option[value="' + zone + '"]')) select.value = zone;
    });
  }

  window.addEventListener("popstate", function () { location.reload(); });
  document.addEventListener("DOMContentLoaded", function () {
    init(document);
    if (location.hash === "#latest") {
      var input = document.getElementById("question");
      if (input) input.focus({ preventScroll: true });
    }
  });
})();
