// Hold countdowns: an element with data-countdown="<ISO time>" shows the time left
// (minutes and seconds, or hours and minutes for the long verification window).
// Without JavaScript the page shows the time the hold ends instead.
const leftText = (seconds) => {
  if (seconds <= 0) return "(time is up)";
  if (seconds >= 3600) return `(${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min left)`;
  return `(${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")} left)`;
};
for (const el of document.querySelectorAll("[data-countdown]")) {
  const end = Date.parse(el.dataset.countdown);
  const tick = () => {
    const left = Math.max(0, Math.round((end - Date.now()) / 1000));
    el.textContent = leftText(left);
    if (left > 0) setTimeout(tick, 1000);
  };
  tick();
}
