// Atrium dashboard behaviour: confirmation dialogs and live build logs. Pages work without
// it except that dialogs need it to open.
"use strict";

document.addEventListener("click", (event) => {
  const opener = event.target.closest("[data-dialog]");
  if (opener) {
    const dialog = document.getElementById(opener.dataset.dialog);
    if (dialog) {
      dialog.showModal();
    }
    return;
  }
  const closer = event.target.closest("[data-close]");
  if (closer) {
    closer.closest("dialog")?.close();
  }
});

// A running build's log: lines stream in over server-sent events; when the job ends the page
// reloads, so its status and actions are current.
function followLog(pre) {
  const source = new EventSource(pre.dataset.follow);
  source.addEventListener("log", (event) => {
    pre.append(event.data + "\n");
    pre.scrollTop = pre.scrollHeight;
  });
  source.addEventListener("done", () => {
    source.close();
    window.location.reload();
  });
  source.onerror = () => source.close();
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("pre[data-follow]").forEach(followLog);
});
