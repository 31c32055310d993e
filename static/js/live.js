// Live updates (web/live.py, fragments/live.html): htmx starts on a timer once the page is
// parsed, so it may have processed the page before its hx-sse extension (a later deferred
// script) registered. If so, process each stream element again: the extension connects it
// (and never twice). Without this the page still works; it just does not update itself.
if (document.querySelector("[data-htmx-powered]")) {
  for (const el of document.querySelectorAll("[hx-sse\\:connect]")) {
    if (!el._htmx?.sse) htmx.process(el);
  }
}
