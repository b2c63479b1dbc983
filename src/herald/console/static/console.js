// Herald console: each page's small behaviour. Every change goes through Herald's JSON API
// with the session cookie and the page's CSRF token, so the console obeys the API's rules.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content || "";
const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
const POLL_MS = 2000;

class ApiError extends Error {
  constructor(answer, status) {
    super((answer && answer.message) || `Request failed (${status})`);
    this.code = answer && answer.code;
    this.data = answer && answer.data;
    this.status = status;
  }
}

async function api(method, path, body) {
  const init = { method, headers: { "X-CSRF-Token": csrf() }, credentials: "same-origin" };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (response.status === 401) {
    window.location.assign(`/console/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError({ message: "Your session ended; log in again." }, 401);
  }
  const answer = await response.json().catch(() => null);
  if (!response.ok || !answer || answer.status !== "success") throw new ApiError(answer, response.status);
  return answer.data;
}

function toast(text) {
  const box = $("#toast");
  if (!box) return;
  box.textContent = text;
  box.classList.add("shown");
  setTimeout(() => box.classList.remove("shown"), 4000);
}

// A JSend error in words: its message, then each field's problem (``data.errors``).
function showError(error) {
  const box = $("#form-error");
  let text = error.message;
  const problems = Array.isArray(error.data?.errors) ? error.data.errors : [];
  for (const problem of problems) {  // the field itself says it is wrong, for screen readers too
    const field = String(problem.field || "").split(".")[0];
    document.querySelector(`[name="${CSS.escape(field)}"]`)?.setAttribute("aria-invalid", "true");
  }
  if (problems.length) {
    text = "Please fix: " + problems.map((p) => `${p.field}: ${p.message}`).join("; ");
  } else if (error.code) {
    text += ` (${error.code})`;
  }
  if (box) {
    box.textContent = text;
    box.hidden = false;
    box.scrollIntoView({ block: "nearest" });
  } else {
    toast(text);
  }
}

function clearError() {
  $$('[aria-invalid="true"]').forEach((field) => field.removeAttribute("aria-invalid"));
  const box = $("#form-error");
  if (box) box.hidden = true;
}

function badge(state) {
  const span = document.createElement("span");
  span.className = `badge state-${String(state).toLowerCase()}`;
  span.dataset.state = state;
  span.textContent = String(state).toLowerCase();
  return span;
}

function setBadge(holder, state) {
  if (!holder) return;
  const current = $(".badge", holder);
  if (current && current.dataset.state === state) return;
  holder.replaceChildren(badge(state));
}

function formatTime(iso) {
  if (!iso) return "—";
  const when = new Date(iso);
  return Number.isNaN(when.getTime()) ? iso : when.toISOString().replace("T", " ").slice(0, 19);
}

// Poll while ``step`` says so; slows down when the tab is hidden.
function poll(step) {
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    let again = true;
    try {
      again = await step();
    } catch (error) {
      if (error.status === 401) return;
    }
    if (again !== false) setTimeout(tick, document.hidden ? POLL_MS * 5 : POLL_MS);
  };
  setTimeout(tick, POLL_MS);
  return () => { stopped = true; };
}

// ---- templates: preview and placeholder checks -------------------------------------------
function placeholders(text) {
  return Array.from(text.matchAll(/\{\{\s*(\d+)\s*\}\}/g), (m) => Number(m[1]));
}

function placeholderProblem(text) {
  const numbers = placeholders(text);
  if (/\{\{(?!\s*\d+\s*\}\})/.test(text)) return "Placeholders are written {{1}}, {{2}} … with numbers only.";
  const distinct = [...new Set(numbers)].sort((a, b) => a - b);
  for (let i = 0; i < distinct.length; i += 1) {
    if (distinct[i] !== i + 1) return `Placeholders must be numbered from {{1}} without gaps: {{${i + 1}}} is missing.`;
  }
  if (/^\s*\{\{\d+\}\}/.test(text) || /\{\{\d+\}\}\s*$/.test(text)) return "The body may not start or end with a placeholder.";
  return distinct.length ? `${distinct.length} placeholder(s): fine.` : "No placeholders.";
}

function fillPreview(bubble, parts) {
  const header = $(".b-header", bubble);
  header.replaceChildren();
  if (parts.headerFormat === "TEXT" && parts.headerText) {
    const strong = document.createElement("strong");
    strong.textContent = parts.headerText;
    header.append(strong);
  } else if (parts.headerFormat && parts.headerFormat !== "TEXT") {
    const media = document.createElement("span");
    media.className = "media";
    media.textContent = parts.headerFormat.toLowerCase();
    header.append(media);
  }
  const body = $(".b-body", bubble);
  body.replaceChildren();
  let last = 0;
  for (const match of parts.body.matchAll(/\{\{\s*([a-z0-9_]+)\s*\}\}/g)) {
    body.append(parts.body.slice(last, match.index));
    // Positional values are a list ({{1}} is the first), a NAMED template's an object by name.
    const value = Array.isArray(parts.values) ? parts.values[Number(match[1]) - 1] : parts.values?.[match[1]];
    const mark = document.createElement("mark");
    mark.className = "placeholder";
    mark.textContent = value || match[0];
    body.append(mark);
    last = match.index + match[0].length;
  }
  body.append(parts.body.slice(last));
  $(".b-footer", bubble).textContent = parts.footer || "";
  const buttons = $(".b-buttons", bubble);
  buttons.replaceChildren(...(parts.buttons || []).map((text) => {
    const span = document.createElement("span");
    span.className = "b-button";
    span.textContent = text;
    return span;
  }));
}

function templateFromForm(form) {
  const value = (name) => form.elements[name].value.trim();
  const template = { name: value("name"), language: value("language"), category: value("category") };
  if (template.category === "AUTHENTICATION") {  // Meta writes the text: options only
    template.otp_type = value("otp_type");
    if (template.otp_type === "ONE_TAP") {
      template.package_name = value("package_name");
      template.signature_hash = value("signature_hash");
    }
    template.add_security_recommendation = form.elements.add_security_recommendation.checked;
    if (value("code_expiration_minutes")) template.code_expiration_minutes = Number(value("code_expiration_minutes"));
    return template;
  }
  template.body = form.elements.body.value;
  const headerFormat = value("header_format");
  if (headerFormat === "TEXT") {
    template.header = { format: "TEXT", text: value("header_text") };
    if (/\{\{1\}\}/.test(template.header.text)) template.header.example = value("header_example");
  } else if (headerFormat) {
    template.header = { format: headerFormat };
  }
  if (value("footer")) template.footer = value("footer");
  template.buttons = [0, 1, 2].map((i) => ({ type: value(`b${i}_type`), text: value(`b${i}_text`), url: value(`b${i}_url`), example: value(`b${i}_example`) }))
    .filter((b) => b.type)
    .map((b) => Object.fromEntries(Object.entries(b).filter(([key, v]) => v && (key !== "url" || b.type === "URL") && (key !== "text" || b.type !== "COPY_CODE"))));
  return template;
}

// The text Meta displays for an authentication template: its wording, given by the server.
function authenticationWording(form, template) {
  const data = form.dataset;
  let body = data.codeText;
  if (template.add_security_recommendation) body = `${body} ${data.securityText}`;
  const minutes = template.code_expiration_minutes;
  const footer = minutes ? data.expiryText.replace("{minutes}", String(minutes)) : "";
  return { body, footer, buttons: [template.otp_type === "ONE_TAP" ? "Autofill" : "Copy code"] };
}

function pageTemplateNew() {
  const form = $("#template-form");
  const bubble = $("#preview");
  const check = $("#t-body-check");
  const refresh = () => {
    const auth = form.elements.category.value === "AUTHENTICATION";
    $("#t-auth").hidden = !auth;
    $("#t-content").hidden = auth;
    form.elements.header_format.closest("fieldset").hidden = auth;
    $("#t-one-tap").hidden = form.elements.otp_type.value !== "ONE_TAP";
    const headerFormat = auth ? "" : form.elements.header_format.value;
    form.elements.header_text.disabled = headerFormat !== "TEXT";
    $("#t-header-text-wrap").hidden = Boolean(headerFormat) && headerFormat !== "TEXT";
    $("#t-header-example-wrap").hidden = !/\{\{1\}\}/.test(form.elements.header_text.value) || headerFormat !== "TEXT";
    $("#t-header-file-wrap").hidden = !headerFormat || headerFormat === "TEXT";
    for (const i of [0, 1, 2]) {  // a button's fields only once it has a kind that takes them
      const kind = form.elements[`b${i}_type`].value;
      form.elements[`b${i}_text`].closest("div").hidden = !kind || kind === "COPY_CODE";
      form.elements[`b${i}_url`].closest("div").hidden = kind !== "URL";
      form.elements[`b${i}_example`].closest("div").hidden = kind !== "COPY_CODE" && kind !== "URL";
    }
    const t = templateFromForm(form);
    if (auth) {
      check.textContent = "";
      fillPreview(bubble, authenticationWording(form, t));
      return;
    }
    check.textContent = placeholderProblem(form.elements.body.value);
    fillPreview(bubble, {
      headerFormat, headerText: form.elements.header_text.value, body: t.body, footer: t.footer,
      buttons: t.buttons.map((b) => b.text || b.type.toLowerCase()),
    });
  };
  form.addEventListener("input", refresh);
  refresh();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    try {
      const template = templateFromForm(form);
      if (template.header && template.header.format !== "TEXT") {
        const file = form.elements.header_file.files[0];
        if (!file) throw new ApiError({ message: "A media header needs a sample file for WhatsApp's review.", code: "header_sample" }, 400);
        const upload = new FormData();
        upload.append("file", file);
        template.header.example_media_id = (await api("POST", "/api/v2/whatsapp/media", upload)).media_id;
      }
      const created = await api("POST", "/api/v2/whatsapp/templates", template);
      if ($("#t-submit-now").checked) await api("POST", `/api/v2/whatsapp/templates/${created.id}/submit`);
      window.location.assign(`/console/templates/${created.id}`);
    } catch (error) {
      showError(error);
    }
  });
}

function pageTemplate() {
  const holder = $("#template-state");
  const id = holder.dataset.templateId;
  const show = (state) => {
    setBadge(holder, state);
    holder.dataset.state = state;
    $("#submit-template").hidden = !["DRAFT", "REJECTED"].includes(state);
    $("#send-template").hidden = state !== "APPROVED" || holder.dataset.sendable === "false";
    $("#review-hint").hidden = state !== "PENDING";
  };
  poll(async () => {
    if (holder.dataset.state !== "PENDING") return true;
    const template = await api("GET", `/api/v2/whatsapp/templates/${id}`);
    show(template.state);
    if (template.rejection_reason && !$("#rejection")) toast(`Rejected: ${template.rejection_reason}`);
    return true;
  });
  $("#submit-template").addEventListener("click", async () => {
    clearError();
    try {
      show((await api("POST", `/api/v2/whatsapp/templates/${id}/submit`)).state);
    } catch (error) { showError(error); }
  });
  $("#delete-template").addEventListener("click", async () => {
    if (!window.confirm("Delete this template, here and at WhatsApp?")) return;
    try {
      await api("DELETE", `/api/v2/whatsapp/templates/${id}`);
      window.location.assign("/console/templates");
    } catch (error) { showError(error); }
  });
}

function pageTemplates() {
  const button = $("#sync-templates");
  button.addEventListener("click", async () => {
    clearError();
    button.disabled = true;
    try {
      const counts = await api("POST", "/api/v2/whatsapp/templates/sync");
      const result = $("#sync-result");
      result.textContent = `Synced with Meta: ${counts.created} imported, ${counts.updated} updated, ` +
        `${counts.unchanged} unchanged, ${counts.removed} deleted at Meta.`;
      result.hidden = false;
      if (counts.created || counts.updated || counts.removed) setTimeout(() => window.location.reload(), 1500);
    } catch (error) { showError(error); } finally { button.disabled = false; }
  });
}

// ---- send a test message -----------------------------------------------------------------
const MEDIA_HINTS = { IMAGE: "A JPEG or PNG image, up to 5 MB.", VIDEO: "An MP4 or 3GP video, up to 16 MB.", DOCUMENT: "A PDF document, up to 100 MB." };

function pageSend() {
  const form = $("#send-form");
  if (!form) return;
  const select = form.elements.template_id;
  const chosen = () => JSON.parse(select.selectedOptions[0].dataset.template);
  const preview = () => {
    const t = chosen();
    fillPreview($("#send-preview"), {
      headerFormat: t.header?.format, headerText: t.header?.text, body: t.body, footer: t.footer,
      buttons: t.authentication ? [t.authentication.otp_type === "ONE_TAP" ? "Autofill" : "Copy code"] : t.buttons.map((b) => b.text || b.type.toLowerCase()),
      values: paramValues(t, "body_param"),
    });
  };
  // A NAMED template's values go by name (an object), a positional one's in order (a list).
  const paramValues = (t, name) => {
    const inputs = $$(`input[name="${name}"]`, form);
    if (t.parameter_format !== "NAMED") return inputs.map((input) => input.value);
    return Object.fromEntries(inputs.map((input) => [input.dataset.name, input.value]));
  };
  const render = () => {
    const t = chosen();
    const params = $("#s-params");
    params.replaceChildren(Object.assign(document.createElement("legend"), { textContent: "Body parameters" }));
    const count = t.parameters.body.length;
    t.parameters.body.forEach((variable, i) => {
      const label = Object.assign(document.createElement("label"), { htmlFor: `s-p${i + 1}`, textContent: `Parameter {{${variable}}}` });
      const input = Object.assign(document.createElement("input"), { id: `s-p${i + 1}`, name: "body_param", required: true, maxLength: 1024 });
      input.dataset.name = variable;
      params.append(label, input);
    });
    t.parameters.header.forEach((variable) => {
      const label = Object.assign(document.createElement("label"), { htmlFor: "s-h1", textContent: `Header parameter {{${variable}}}` });
      const input = Object.assign(document.createElement("input"), { id: "s-h1", name: "header_param", required: true, maxLength: 60 });
      input.dataset.name = variable;
      params.append(label, input);
    });
    if (!count && !$("#s-h1")) params.append(Object.assign(document.createElement("p"), { className: "hint", textContent: "This template has no parameters." }));
    const buttons = $("#s-buttons");
    buttons.replaceChildren(Object.assign(document.createElement("legend"), { textContent: "Button values" }));
    let needed = 0;
    t.buttons.forEach((button, index) => {
      const dynamicUrl = button.type === "URL" && /\{\{1\}\}\s*$/.test(button.url || "");
      if (!dynamicUrl && button.type !== "COPY_CODE") return;
      needed += 1;
      const label = Object.assign(document.createElement("label"), {
        htmlFor: `s-b${index}`, textContent: button.type === "URL" ? `Link ending for button ${index + 1}` : `Code to copy (button ${index + 1})`,
      });
      const input = Object.assign(document.createElement("input"), { id: `s-b${index}`, required: true, maxLength: 2000 });
      input.dataset.index = String(index);
      input.dataset.subType = button.type === "URL" ? "url" : "copy_code";
      buttons.append(label, input);
    });
    buttons.hidden = needed === 0 || t.category === "AUTHENTICATION";
    $("#s-otp-wrap").hidden = t.category !== "AUTHENTICATION";
    const media = t.header && t.header.format !== "TEXT" ? t.header.format : null;
    $("#s-media-wrap").hidden = !media;
    $("#s-media-hint").textContent = media ? MEDIA_HINTS[media] : "";
    preview();
  };
  form.addEventListener("input", preview);
  select.addEventListener("change", render);
  render();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const t = chosen();
    const body = { to: form.elements.to.value.trim(), country_code: form.elements.country_code.value.trim().toUpperCase() };
    const params = paramValues(t, "body_param");
    if (Object.keys(params).length) body.body_params = params;
    const headerParams = paramValues(t, "header_param");
    if (Object.keys(headerParams).length) body.header_params = headerParams;
    if (t.category === "AUTHENTICATION") {
      body.otp_code = form.elements.otp_code.value.trim();
    } else {
      const buttons = $$("#s-buttons input", form).map((input) => ({ index: Number(input.dataset.index), sub_type: input.dataset.subType, value: input.value }));
      if (buttons.length) body.buttons = buttons;
    }
    const submit = $('button[type="submit"]', form);
    submit.disabled = true;
    try {
      const file = form.elements.file.files[0];
      const media = t.header && t.header.format !== "TEXT" ? t.header.format : null;
      if (media) {
        if (!file) throw new ApiError({ message: `This template's header needs a file: ${MEDIA_HINTS[media]}`, code: "header_media_required" }, 400);
        const upload = new FormData();
        upload.append("file", file);
        body.header_media_id = (await api("POST", "/api/v2/whatsapp/media", upload)).media_id;
      }
      const accepted = await api("POST", `/api/v2/whatsapp/templates/${select.value}/send`, body);
      window.location.assign(`/console/messages/${accepted.message.id}`);
    } catch (error) {
      showError(error);
      submit.disabled = false;
    }
  });
}

// ---- history and one message: live states ------------------------------------------------
// A message's life as the server's lifecycle module tells it (base.html).
const LIFECYCLE = JSON.parse(document.getElementById("lifecycle")?.textContent || "{}");
const FINAL = new Set(LIFECYCLE.final || []);

// The same words and fallbacks as herald/console/explain.py, for failures seen while watching.
function explainError(error) {
  const words = JSON.parse($("#error-words")?.textContent || "{}");
  const code = String(error.code || "");
  if (words[code]) return words[code];
  if (/^\d+$/.test(code) && Number(code) >= 200 && Number(code) <= 299) return "The channel's access token lacks a permission this needs.";
  return error.title ? `WhatsApp said: ${error.title}.` : `Failed with code ${code}.`;
}

function pageMessages() {
  const table = $("#messages");
  if (!table) return;
  const query = new URLSearchParams(table.dataset.live);
  query.set("limit", "25");
  if (!query.get("page")) query.set("page", "1");
  for (const field of ["from", "to"]) {  // the page's local date-times, as the API's ISO form
    const value = query.get(field);  // the page's times are UTC
    if (value) query.set(field, /(Z|[+-]\d\d:\d\d)$/.test(value) ? value : `${value}Z`);
  }
  poll(async () => {
    const rows = $$("tr[data-message-id]", table);
    if (rows.every((row) => FINAL.has($(".badge", row)?.dataset.state))) return true;
    const page = await api("GET", `/api/whatsapp/?${query}`);
    for (const message of page.items) {
      const row = $(`tr[data-message-id="${message.id}"]`, table);
      if (!row) continue;
      setBadge($(".state", row), message.state);
      if (message.error) $(".detail", row).textContent = explainError(message.error);
    }
    return true;
  });
}

function pageMessage() {
  const holder = $("#message-state");
  const id = holder.dataset.messageId;
  poll(async () => {
    const state = $(".badge", holder).dataset.state;
    if (FINAL.has(state)) return false;
    const message = await api("GET", `/api/whatsapp/${id}/`);
    setBadge(holder, message.state);
    for (const cell of $$("[data-field]")) {
      const value = message[cell.dataset.field];
      cell.textContent = cell.dataset.field === "provider_message_id" ? (value || "—") : formatTime(value);
    }
    if (message.error) {
      const section = $("#message-error");
      $(".explained", section).textContent = explainError(message.error);
      $(".code", section).textContent = message.error.code;
      $(".detail", section).textContent = message.error.detail ? `: ${message.error.detail}` : "";
      section.hidden = false;
    }
    $("#cancel-message")?.toggleAttribute("hidden", !(LIFECYCLE.cancellable || []).includes(message.state));
    return !FINAL.has(message.state);
  });
  $("#cancel-message")?.addEventListener("click", async () => {
    try {
      await api("DELETE", `/api/whatsapp/${id}/`);
      window.location.reload();
    } catch (error) { showError(error); }
  });
}

// ---- a bulk group's funnel ---------------------------------------------------------------
const COLOURS = {
  queued: "#6b7785", sent: "#0b5394", delivered: "#22577a", read: "#0b6b50", failed: "#b3261e",
};
const STEPS = (LIFECYCLE.funnel || []).map(([step]) => [step, COLOURS[step] || "#6b7785"]);

// How many messages reached each step: a read message was also sent and delivered.
function funnel(counts) {
  const steps = {};
  for (const [step, states] of LIFECYCLE.funnel || []) {
    steps[step] = states.reduce((sum, state) => sum + (counts[state] || 0), 0);
  }
  return steps;
}

function drawFunnel(svg, steps) {
  const ns = "http://www.w3.org/2000/svg";
  const most = Math.max(1, ...Object.values(steps));
  svg.replaceChildren();
  STEPS.forEach(([step, colour], index) => {
    const y = 10 + index * 43;
    const width = Math.round((steps[step] / most) * 420);
    const label = document.createElementNS(ns, "text");
    Object.entries({ x: 10, y: y + 22, fill: "#1b1f24", "font-size": 15 }).forEach(([k, v]) => label.setAttribute(k, v));
    label.textContent = step;
    const bar = document.createElementNS(ns, "rect");
    Object.entries({ x: 100, y, width: Math.max(width, 2), height: 32, rx: 4, fill: colour }).forEach(([k, v]) => bar.setAttribute(k, v));
    bar.dataset.step = step;
    const value = document.createElementNS(ns, "text");
    Object.entries({ x: 108 + Math.max(width, 2), y: y + 22, fill: "#1b1f24", "font-size": 15 }).forEach(([k, v]) => value.setAttribute(k, v));
    value.textContent = String(steps[step]);
    svg.append(label, bar, value);
  });
}

function pageGroup() {
  const box = $("#funnel");
  const svg = $("#funnel-chart");
  const show = (counts) => {
    const steps = funnel(counts);
    drawFunnel(svg, steps);
    for (const [step, value] of Object.entries(steps)) $(`td[data-step="${step}"]`).textContent = String(value);
    $("#group-total").textContent = String(steps.queued);
    return Object.entries(counts).some(([state, count]) => count > 0 && !FINAL.has(state));
  };
  let open = show(JSON.parse(box.dataset.counts));
  poll(async () => {
    if (!open) return false;
    const group = await api("GET", `/api/v2/whatsapp/bulk-groups/${encodeURIComponent(box.dataset.groupId)}`);
    open = show(group.counts);
    return open;
  });
}

// ---- secret keys and callbacks ---------------------------------------------------------
function showSecretOnce(secret) {
  $("#secret-value").textContent = secret;
  const box = $("#secret-once");
  box.hidden = false;
  box.scrollIntoView({ block: "nearest" });
}

function pageKeys() {
  const form = $("#key-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    try {
      const created = await api("POST", "/api/v2/secret-keys", {
        name: form.elements.name.value.trim(), platform_type: form.elements.platform_type.value, base_uri: form.elements.base_uri.value.trim(),
      });
      showSecretOnce(created.secret_key);
      form.reset();
    } catch (error) { showError(error); }
  });
  for (const button of $$("[data-revoke-key]")) {
    button.addEventListener("click", async () => {
      if (!window.confirm("Revoke this key? Plugins using it stop working at once.")) return;
      try {
        await api("DELETE", `/api/v2/secret-keys/${button.dataset.revokeKey}`);
        window.location.reload();
      } catch (error) { showError(error); }
    });
  }
}

function pageCallbacks() {
  const form = $("#callback-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    try {
      const created = await api("POST", "/api/v2/webhooks", { url: form.elements.url.value.trim() });
      showSecretOnce(created.secret);
      form.reset();
    } catch (error) { showError(error); }
  });
  for (const button of $$("[data-delete-callback]")) {
    button.addEventListener("click", async () => {
      if (!window.confirm("Delete this callback endpoint?")) return;
      try {
        await api("DELETE", `/api/v2/webhooks/${button.dataset.deleteCallback}`);
        window.location.reload();
      } catch (error) { showError(error); }
    });
  }
}

const PAGES = {
  templates: pageTemplates, template_new: pageTemplateNew, template: pageTemplate, send: pageSend, messages: pageMessages,
  message: pageMessage, group: pageGroup, keys: pageKeys, callbacks: pageCallbacks,
};

document.addEventListener("DOMContentLoaded", () => {
  PAGES[document.body.dataset.page]?.();
});
