// Hold countdowns: an element with data-countdown="<ISO time>" shows the minutes and
// seconds left. Without JavaScript the page shows the time the hold ends instead.
for (const el of document.querySelectorAll("[data-countdown]")) {
  const end = Date.parse(el.dataset.countdown);
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    el.textContent = left > 0 ? `(${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")} left)` : "(time is up)";
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
}
