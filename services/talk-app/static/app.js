// StravaTalk's optional enhancement: ask without a full reload (keeping the scroll
// and focus), show "Thinking…" while the server answers, and sort tables by a click.
// Every form works without this file.
(function () {
  "use strict";

  function swap(html, url) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) { location.href = url; return; }
    main.replaceWith(fresh);
    document.title = doc.title;
    history.pushState(null, "", url);
    init(fresh);
    var latest = document.getElementById("latest");
    if (latest) latest.scrollIntoView({ block: "start" });
    var input = document.getElementById("question");
    if (input) input.focus({ preventScroll: true });
  }

  function submit(form, submitter) {
    var data = new FormData(form);
    if (submitter && submitter.name) data.set(submitter.name, submitter.value);
    var q = data.get("question");
    if (!q || !String(q).trim()) return false;
    var thinking = document.querySelector(".thinking");
    if (thinking) thinking.hidden = false;
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
      document.querySelectorAll(".ask-form button, .ask-form input").forEach(function (el) { el.disabled = false; });
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

  function init(root) {
    root.querySelectorAll("form.ask-form").forEach(function (form) {
      form.addEventListener("submit", function (e) {
        if (!form.dataset.plain && submit(form, e.submitter)) e.preventDefault();
      });
    });
    root.querySelectorAll("table.sortable th").forEach(function (th) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "sort";
      b.textContent = th.textContent;
      b.addEventListener("click", function () { sortBy(th); });
      th.textContent = "";
      th.appendChild(b);
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
