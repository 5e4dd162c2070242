// The progress page of a prepared download or bulk action: polls its status and
// updates the bar; when the job finishes the page is reloaded to show the result.
// Without this script the page refreshes itself (see the noscript refresh).
const box = document.querySelector("[data-job-status]");

if (box) {
  const bar = box.querySelector("progress");
  // A page drawn while no worker had taken the job waits more slowly, and shows the result once one does.
  const shownStalled = box.hasAttribute("data-stalled");
  const text = document.getElementById("job-progress-text");
  const message = box.querySelector("[data-job-message]");
  let lastState = null;

  async function poll() {
    let status;
    try {
      const response = await fetch(box.dataset.jobStatus, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(String(response.status));
      status = await response.json();
    } catch (error) {
      message.textContent = "Could not check progress just now; trying again.";
      window.setTimeout(poll, 5000);
      return;
    }
    if (status.state === "done" || status.state === "failed" || status.stalled !== shownStalled) {
      window.location.reload();
      return;
    }
    if (shownStalled) {
      window.setTimeout(poll, 10000);
      return;
    }
    bar.value = status.percent;
    bar.textContent = `${status.percent}%`;
    text.textContent = status.text;
    if (status.state !== lastState) {
      message.textContent = status.state === "queued" ? "Waiting to start." : "Being prepared.";
      lastState = status.state;
    }
    window.setTimeout(poll, 2000);
  }

  window.setTimeout(poll, 1000);
}
