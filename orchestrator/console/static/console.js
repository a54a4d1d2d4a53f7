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
