// The agency's ticket form. After a failed submit the focus goes to the error summary, so a screen reader reads what
// to correct first. Before sending, the form shows the priority the chosen impact and urgency give; the server sends
// the table with the page (data-priorities), so the rule and its labels live in one place.
(() => {
  "use strict";
  const summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();

  const preview = document.querySelector("[data-priority-preview]");
  if (!preview) return;
  const form = preview.closest("form");
  const impact = form.querySelector("[name=impact]");
  const urgency = form.querySelector("[name=urgency]");
  const label = preview.querySelector("[data-priority-label]");
  let priorities = {};
  try { priorities = JSON.parse(preview.dataset.priorities); } catch (error) { return; }

  function update() {
    const priority = priorities[`${impact.value}:${urgency.value}`];
    preview.hidden = !priority;
    if (!priority) return;
    label.textContent = priority.label;
    label.className = `priority priority--p${priority.value}`;
  }

  impact.addEventListener("change", update);
  urgency.addEventListener("change", update);
  update();
})();
