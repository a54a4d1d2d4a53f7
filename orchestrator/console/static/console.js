// Upload progress: htmx reports the request's progress on the form that sent it; the form's
// own <progress> shows it (and is hidden again when the answer arrives).
document.addEventListener("htmx:xhr:progress", (event) => {
  const bar = event.target.querySelector && event.target.querySelector("progress");
  if (!bar || !event.detail.lengthComputable) return;
  bar.hidden = false;
  bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
});
document.addEventListener("htmx:afterRequest", (event) => {
  const bar = event.target.querySelector && event.target.querySelector("progress");
  if (bar) bar.hidden = true;
});

// Saved test events, per function, in this browser's storage: a select fills the payload.
function savedEvents(fn) {
  try {
    return JSON.parse(localStorage.getItem(`lambkin-test-events:${fn}`) || "{}");
  } catch {
    return {};
  }
}

function listSavedEvents(select) {
  const events = savedEvents(select.dataset.function);
  select.replaceChildren(new Option("(choose one)", ""));
  for (const name of Object.keys(events).sort()) select.add(new Option(name, name));
}

document.addEventListener("DOMContentLoaded", () => {
  const select = document.getElementById("saved-events");
  if (!select) return;
  const payload = document.getElementById("payload");
  listSavedEvents(select);
  select.addEventListener("change", () => {
    const events = savedEvents(select.dataset.function);
    if (select.value in events) payload.value = events[select.value];
  });
  document.getElementById("save-event").addEventListener("click", () => {
    const name = document.getElementById("event-name").value.trim();
    if (!name) return;
    const events = savedEvents(select.dataset.function);
    events[name] = payload.value;
    localStorage.setItem(`lambkin-test-events:${select.dataset.function}`, JSON.stringify(events));
    listSavedEvents(select);
    select.value = name;
  });
});

// Following logs: once events arrive, the "No events in this window" row goes.
document.addEventListener("htmx:afterSwap", (event) => {
  const rows = event.detail.target;
  if (rows.id !== "log-rows") return;
  if (rows.querySelector("tr:not(.empty)")) rows.querySelectorAll("tr.empty").forEach((r) => r.remove());
});
