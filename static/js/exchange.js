// Export and import page: start an export job, poll its progress, offer the download when done.
const data = JSON.parse(document.getElementById("exchange-data").textContent);
const form = document.getElementById("export-form");
const error = document.getElementById("export-error");
const section = document.getElementById("export-progress-section");
const bar = document.getElementById("export-progress");
const label = document.getElementById("export-progress-label");
const title = document.getElementById("export-job-title");
const result = document.getElementById("export-result");
const POLL_MS = 700;

function csrf() {
  const field = form.querySelector("[name=csrfmiddlewaretoken]");
  return field ? field.value : "";
}

function messageOf(body, fallback) {
  if (!body) return fallback;
  if (body.detail) return String(body.detail);
  return Object.values(body).flat().join(" ") || fallback;
}

function jobUrl(id) {
  return data.jobUrl.replace(/\/0\/$/, `/${id}/`);
}

function buttons(disabled) {
  for (const button of form.querySelectorAll("button[data-kind]")) button.disabled = disabled;
}

function show(job) {
  section.hidden = false;
  title.textContent = job.kind_label;
  bar.value = job.progress;
  bar.textContent = `${job.progress}%`;
  label.textContent = `${job.status_label} · ${job.progress}%`;
  result.replaceChildren();
  if (job.status === "done" && job.download_url) {
    const link = document.createElement("a");
    link.href = job.download_url;
    link.id = "export-download";
    link.textContent = `Download ${job.filename}`;
    result.append(link);
  } else if (job.status === "failed" || job.status === "expired") {
    result.className = "error";
    result.textContent = job.message || job.status_label;
    return;
  }
  result.className = "";
}

async function poll(id) {
  for (;;) {
    let job;
    try {
      const response = await fetch(jobUrl(id), { credentials: "same-origin", headers: { Accept: "application/json" } });
      job = await response.json();
      if (!response.ok) throw new Error(messageOf(job, `The server answered ${response.status}.`));
    } catch (problem) {
      error.textContent = `Could not follow the export: ${problem.message}`;
      buttons(false);
      return;
    }
    show(job);
    if (job.status !== "queued" && job.status !== "running") {
      buttons(false);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

form.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-kind]");
  if (!button) return;
  error.textContent = "";
  buttons(true);
  let body = null;
  let response;
  try {
    response = await fetch(data.startUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf() },
      body: JSON.stringify({ kind: button.dataset.kind }),
    });
    body = await response.json();
  } catch {
    response = null;
  }
  if (!response || response.status !== 202) {
    error.textContent = messageOf(body, "The export could not be started.");
    buttons(false);
    return;
  }
  show(body);
  poll(body.id);
});

if (data.resume) {
  buttons(true);
  poll(data.resume);
}
