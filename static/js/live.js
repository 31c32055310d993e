// Live updates (web/live.py, fragments/live.html): htmx starts on a timer once the page is
// parsed, so it may have processed the page before its hx-sse extension (a later deferred
// script) registered. If so, process each stream element again: the extension connects it
// (and never twice). Without this the page still works; it just does not update itself.
if (document.querySelector("[data-htmx-powered]")) {
  for (const el of document.querySelectorAll("[hx-sse\\:connect]")) {
    if (!el._htmx?.sse) htmx.process(el);
  }
}

// The operator's payment queue refreshes itself on a live event (outerMorph). A row the
// operator has just decided shows its outcome (or is waiting for it: aria-busy), which
// the fresh queue no longer has: move such rows into a "decided" table under the queue
// before the swap, so the outcome stays (and its answer still finds its row).
document.addEventListener("htmx:before:swap", (event) => {
  const queue = event.target;
  if (queue.id !== "payment-queue") return;
  const fresh = event.detail.ctx?.text || "";
  const decided = [...queue.querySelectorAll("tbody tr")].filter(
    (row) => (row.querySelector(".flash-success") || row.getAttribute("aria-busy") === "true")
      && !fresh.includes(`id="${row.id}"`),
  );
  if (!decided.length) return;
  let table = document.getElementById("payments-decided");
  if (!table) {
    table = document.createElement("table");
    table.id = "payments-decided";
    table.className = "admin-table";
    table.createCaption().textContent = "Decided on this page";
    table.createTBody();
    queue.after(table);
  }
  for (const row of decided) table.tBodies[0].append(row);
});
