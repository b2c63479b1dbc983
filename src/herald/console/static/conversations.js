// Herald console: the conversations list and one conversation as a chat, kept live by polling
// Herald's API (console.js's helpers: api, poll, showError, clearError, toast, formatTime).
"use strict";

const CHAT_POLL_MS = 4000;
const TICKS = { sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!", cancelled: "×" };

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

function every(ms, step) {  // like poll(), at its own pace, slower in a hidden tab
  const tick = async () => {
    try {
      await step();
    } catch (error) {
      if (error.status === 401) return;
    }
    setTimeout(tick, document.hidden ? ms * 5 : ms);
  };
  setTimeout(tick, ms);
}

// ---- the list ----------------------------------------------------------------------------
function conversationRow(c) {
  const item = element("li");
  item.dataset.number = c.phone_number;
  const link = element("a");
  link.href = `/console/conversations/${encodeURIComponent(c.phone_number)}`;
  const name = c.contact && c.contact.name ? `${c.contact.name} · ` : "";
  link.append(element("span", "who", `${name}+${c.phone_number}`));
  if (c.unread_count) {
    const unread = element("span", "unread", String(c.unread_count));
    unread.setAttribute("aria-label", `${c.unread_count} unread`);
    link.append(unread);
  }
  link.append(element("span", `window ${c.window_open ? "open" : "closed"}`, c.window_open ? "Window open" : "Window closed"));
  const last = c.last_message;
  link.append(element("span", "preview", last ? `${last.direction === "out" ? "You: " : ""}${last.text || last.type}` : ""));
  link.append(element("span", "at", formatTime(last ? last.at : c.last_inbound_at)));
  item.append(link);
  return item;
}

function pageConversations() {
  const list = $("#conversations");
  if (!list || !list.dataset.live) return;  // a later page stays as it was loaded
  const query = new URLSearchParams({ limit: "50" });
  if (list.dataset.unread) query.set("unread", "true");
  let shown = list.innerText;
  every(CHAT_POLL_MS, async () => {
    const page = await api("GET", `/api/v2/whatsapp/conversations?${query}`);
    const rows = page.items.map(conversationRow);
    const probe = element("ul");
    probe.append(...rows.map((row) => row.cloneNode(true)));
    if (probe.innerText === shown) return;
    list.replaceChildren(...rows);
    shown = list.innerText;
    $("#no-conversations").hidden = rows.length > 0;
  });
}

// ---- one conversation --------------------------------------------------------------------
function bubble(m) {
  const holder = element("div", `msg ${m.direction}`);
  holder.dataset.direction = m.direction;
  holder.dataset.id = String(m.id);
  const box = element("div", "bubble");
  if (m.media) {
    if (m.media.url && (m.type === "image" || m.type === "sticker")) {
      const image = element("img");
      image.src = m.media.url;
      image.alt = `${m.type} from the ${m.direction === "in" ? "customer" : "business"}`;
      box.append(image);
    } else if (m.media.url) {
      const link = element("a", null, `${m.type} file`);
      link.href = m.media.url;
      box.append(link);
    } else {
      box.append(element("span", "media", `${m.type} (${m.media.status})`));
    }
  }
  if (m.template_name) box.append(element("span", "template-name", `Template ${m.template_name}`));
  if (m.text) {
    box.append(element("div", "b-body", m.text));
  } else if (!m.media && !m.template_name) {
    box.append(element("div", "b-body hint", m.payload ? `${m.type}: ${m.payload}` : m.type));
  }
  const meta = element("div", "meta", formatTime(m.at));
  if (m.direction === "out") {
    const ticks = element("span", `ticks tick-${m.status}`, TICKS[m.status] || "🕓");
    ticks.dataset.status = m.status;
    ticks.title = m.status;
    meta.append(" ", ticks);
  }
  box.append(meta);
  holder.append(box);
  return holder;
}

function timeLeft(expiresAt) {
  const minutes = Math.max(0, Math.floor((new Date(expiresAt).getTime() - Date.now()) / 60000));
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

// The window runs 24 h from the customer's last message: a new one (on the chat's first page)
// moves it on; the server gave where it stood when the page was made.
const WINDOW_MS = 24 * 3600 * 1000;

function showWindow(messages) {
  const state = $("#window-state");
  for (const m of messages) {
    if (m.direction !== "in") continue;
    const until = new Date(new Date(m.at).getTime() + WINDOW_MS);
    if (!state.dataset.expires || until > new Date(state.dataset.expires)) state.dataset.expires = until.toISOString();
  }
  const expires = state.dataset.expires;
  const open = Boolean(expires) && new Date(expires) > new Date();
  state.className = `window ${open ? "open" : "closed"}`;
  state.textContent = open
    ? `Window open: ${timeLeft(expires)} left to answer freely`
    : "Window closed: only templates may be sent";
  $("#reply-form").hidden = !open;
  $("#template-picker").hidden = open;
}

function pageConversation() {
  const chat = $("#chat");
  const number = chat.dataset.number;
  const path = `/api/v2/whatsapp/conversations/${encodeURIComponent(number)}`;
  const signature = (messages) => messages.map((m) => `${m.direction}${m.id}:${m.status || ""}:${m.media?.status || ""}`).join(",");
  let shown = $$(".msg", chat).map((m) => `${m.dataset.direction}${m.dataset.id}`).join(",");
  let unread = true;  // opening the conversation reads it
  const scrollDown = () => { chat.scrollTop = chat.scrollHeight; };
  scrollDown();

  const markRead = async () => {
    if (!unread || document.hidden) return;
    unread = false;
    try {
      await api("POST", `${path}/read`);
    } catch (error) {
      if (error.status !== 404) toast(`Could not mark it read: ${error.message}`);
    }
  };

  const refresh = async () => {
    const page = await api("GET", `${path}/messages?limit=50`);
    const messages = page.items.slice().reverse();
    const now = signature(messages);
    if (now !== shown) {
      const atBottom = chat.scrollHeight - chat.scrollTop - chat.clientHeight < 40;
      chat.replaceChildren(...messages.map(bubble));
      if (messages.some((m) => m.direction === "in" && !m.read_at)) unread = true;
      shown = now;
      if (atBottom) scrollDown();  // never pulls away someone reading older messages
    }
    showWindow(messages);
    await markRead();
  };

  markRead();
  every(CHAT_POLL_MS, refresh);
  document.addEventListener("visibilitychange", () => { if (!document.hidden) markRead(); });

  const form = $("#reply-form");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError();
    const text = $("#r-text", form).value;
    if (!text.trim()) return;
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      await api("POST", "/api/v2/whatsapp/messages", {
        to: number,
        country_code: form.dataset.country,
        type: "text",
        text: { body: text },
      });
      $("#r-text", form).value = "";
      await refresh();
      scrollDown();
    } catch (error) {
      showError(error);
      if (error.code === "window_closed") {
        $("#window-state").dataset.expires = error.data?.window_expires_at || "";
        showWindow([]);
      }
    } finally {
      button.disabled = false;
    }
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const page = document.body.dataset.page;
  if (page === "conversations") pageConversations();
  if (page === "conversation") pageConversation();
});
