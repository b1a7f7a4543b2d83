// Live console: the queue as it changes, the ticket panel and its actions, over /ws/console/.
// The view always equals the database: rows are applied by version, and gaps are filled by resync.
"use strict";

(() => {
  const config = JSON.parse(document.getElementById("console-config").textContent);
  const stringsNode = document.getElementById("console-strings");
  const lang = config.language === "ar" ? "ar" : "en";
  const $ = (id) => document.getElementById(id);

  const t = (key) => stringsNode.getAttribute(`data-${key}`) || key;
  const fmt = (template, values) => template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
  const nameOf = (obj) => (obj ? (lang === "ar" ? obj.name_ar : obj.name_en) || obj.name_en || "" : "");
  // A person in this page's language: a live message names people in the language of whoever made the change.
  const personName = (person) => (person ? (person.names && person.names[lang]) || person.name || "" : "");
  // Choice labels come from the server in the page's language (tickets/sentences.py), never copied here.
  const labels = config.labels || {};
  const labelOf = (kind) => (value) => (labels[kind] || {})[String(value)] ?? String(value ?? "");
  const statusLabel = labelOf("status");
  const priorityLabel = labelOf("priority");
  const channelLabel = labelOf("channel");
  const triggerLabel = labelOf("trigger");

  const dateFormat = (() => {
    try {
      return new Intl.DateTimeFormat(lang === "ar" ? "ar-QA-u-nu-latn" : "en-GB", {
        timeZone: "Asia/Qatar", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit",
      });
    } catch {
      return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    }
  })();
  const formatDate = (iso) => (iso ? dateFormat.format(new Date(iso)) : "—");

  const el = (tag, className, text) => {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  };

  // ---- State -------------------------------------------------------------------------------------------------
  const state = {
    me: { id: config.me.id, name: config.me.name, team_ids: config.me.team_ids || [] },
    queue: new Map(), // number -> row, only rows that belong in my queue
    versions: new Map(), // number -> newest version seen, also for rows that left the queue
    highestCursor: 0,
    heartbeatCursor: 0, // the cursor of the previous heartbeat (or of the snapshot): where a resync starts
    hadSnapshot: false,
    fresh: new Set(), // numbers of new tickets of my teams, highlighted until opened
    presence: { online: [], tickets: {} },
    openNumber: null,
    panelData: null,
    focusNumber: null,
    pending: new Map(), // request_id -> {action, control}
    alerts: false,
  };

  const inQueue = (row) =>
    row.is_open &&
    (state.me.team_ids.includes(row.team.id) || row.assignee === null || row.assignee.id === state.me.id);

  // Returns true when the row was newer than what the console held.
  const applyRow = (row) => {
    const held = state.versions.get(row.number);
    if (held !== undefined && row.version < held) return false;
    state.versions.set(row.number, row.version);
    if (inQueue(row)) state.queue.set(row.number, row);
    else state.queue.delete(row.number);
    if (state.openNumber === row.number) refreshPanelRow(row);
    return true;
  };

  const seeCursor = (cursor) => {
    if (typeof cursor === "number" && cursor > state.highestCursor) state.highestCursor = cursor;
  };

  const currentRow = (number) =>
    state.queue.get(number) || (state.panelData && state.panelData.ticket.number === number ? state.panelData.ticket : null);

  // ---- Urgency and countdowns -------------------------------------------------------------------------------
  // The target that runs: the response until it is met (responded_at), then the resolution. A paused clock
  // (sla_paused_at) counts nothing, so a paused ticket sorts after every running one.
  const slaTarget = (row) => {
    if (!row.responded_at && row.response_due_at) return { kind: "response", due: Date.parse(row.response_due_at) };
    if (row.resolution_due_at) {
      const warn = row.resolution_warning_at ? Date.parse(row.resolution_warning_at) : null;
      return { kind: "resolution", due: Date.parse(row.resolution_due_at), warn };
    }
    return null;
  };

  const urgencyKey = (row) => {
    const target = slaTarget(row);
    return target && !row.sla_paused_at ? target.due : Number.POSITIVE_INFINITY;
  };

  const compareRows = (a, b) => urgencyKey(a) - urgencyKey(b) || a.priority - b.priority || a.number - b.number;

  const duration = (ms) => {
    const total = Math.floor(Math.abs(ms) / 1000);
    const days = Math.floor(total / 86400);
    const hours = Math.floor((total % 86400) / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const seconds = total % 60;
    const pad = (n) => String(n).padStart(2, "0");
    const clock = hours || days ? `${hours}:${pad(minutes)}:${pad(seconds)}` : `${minutes}:${pad(seconds)}`;
    return days ? `${fmt(t("days"), { days })} ${clock}` : clock;
  };

  const slaState = (row, now) => {
    const target = slaTarget(row);
    if (!target) return { level: "none", kind: "", text: t("no-target") };
    const kind = t(target.kind);
    if (row.sla_paused_at) return { level: "paused", kind, text: t("paused") };
    const left = target.due - now;
    if (left < 0) return { level: "breached", kind, text: fmt(t("overdue"), { time: duration(left) }) };
    const window = target.due - Date.parse(row.opened_at);
    const warning = target.warn ? now >= target.warn : window > 0 && left <= window * 0.25;
    const level = warning ? "warn" : "ok";
    return { level, kind, text: fmt(t("due-in"), { time: duration(left) }) };
  };

  // ---- Queue rendering ----------------------------------------------------------------------------------------
  const list = $("queue-list");
  const rowNodes = new Map(); // number -> li

  const filters = {
    team: $("filter-team"),
    priority: $("filter-priority"),
    mine: $("filter-mine"),
    unassigned: $("filter-unassigned"),
  };

  const passesFilters = (row) => {
    const team = filters.team.value;
    if (team === "mine" && !state.me.team_ids.includes(row.team.id)) return false;
    if (team && team !== "mine" && String(row.team.id) !== team) return false;
    if (filters.priority.value && String(row.priority) !== filters.priority.value) return false;
    if (filters.mine.checked && !(row.assignee && row.assignee.id === state.me.id)) return false;
    if (filters.unassigned.checked && row.assignee !== null) return false;
    return true;
  };

  const viewersOf = (number) =>
    (state.presence.tickets[String(number)] || []).filter((viewer) => viewer.id !== state.me.id);

  const buildRow = (number) => {
    const li = el("li");
    const button = el("button", "q-row");
    button.type = "button";
    button.dataset.number = String(number);
    button.dataset.newLabel = statusLabel("new");
    const badge = el("span", "q-priority");
    badge.append(el("span", "c-badge"));
    const subject = el("span", "q-subject");
    const subjectText = el("span", "q-subject-text");
    subjectText.dir = "auto";
    subject.append(subjectText, el("span", "q-agency"), el("span", "q-paging"), el("span", "q-viewers"));
    const sla = el("span", "sla");
    sla.append(el("span", "sla-kind"), el("span", "sla-time"));
    button.append(badge, el("span", "q-ref"), subject, el("span", "q-team"), el("span", "q-status"),
      el("span", "q-assignee"), sla);
    button.addEventListener("click", () => openPanel(number));
    button.addEventListener("focus", () => { state.focusNumber = number; });
    // A technician paged about this ticket acknowledges it here, in one click, without opening it.
    const ack = el("button", "btn btn-primary q-ack", t("acknowledge"));
    ack.type = "button";
    ack.hidden = true;
    ack.addEventListener("click", () => runAction("acknowledge", {}, ack, number));
    li.append(button, ack);
    return li;
  };

  const setText = (node, text) => {
    if (node.textContent !== text) node.textContent = text;
  };

  const paintRow = (li, row, now) => {
    const button = li.firstElementChild;
    const badge = button.querySelector(".c-badge");
    badge.dataset.priority = String(row.priority);
    setText(badge, `P${row.priority}`);
    badge.title = priorityLabel(row.priority);
    setText(button.querySelector(".q-ref"), row.reference);
    setText(button.querySelector(".q-subject-text"), row.subject);
    setText(button.querySelector(".q-agency"), `${nameOf(row.agency)} · ${nameOf(row.service)}`);
    const viewers = viewersOf(row.number);
    setText(button.querySelector(".q-viewers"), viewers.length ? fmt(t("viewers"), { count: viewers.length }) : "");
    setText(button.querySelector(".q-team"), nameOf(row.team));
    setText(button.querySelector(".q-status"), statusLabel(row.status));
    const assignee = button.querySelector(".q-assignee");
    setText(assignee, row.assignee ? personName(row.assignee) : t("unassigned"));
    assignee.classList.toggle("is-none", !row.assignee);
    button.classList.toggle("is-new", state.fresh.has(row.number));
    button.setAttribute("aria-current", state.openNumber === row.number ? "true" : "false");
    paintSla(button, row, now);
    paintPaging(li, row, now);
  };

  // ---- Paging: whom the escalation engine paged about a ticket, which step, when the next step fires -----------
  const pagedToMe = (row) =>
    Boolean(row.paging && !row.paging.stopped && (row.paging.targets || []).some((person) => person.id === state.me.id));

  const pagingText = (row, now) => {
    const paging = row.paging;
    if (!row.is_open || !paging || paging.stopped) return "";
    const names = (paging.targets || []).map((person) => person.name).join(lang === "ar" ? "، " : ", ");
    const parts = [names ? fmt(t(paging.kind === "sla_warning" ? "warned" : "paged"), { names }) : t("paged-nobody")];
    parts.push(paging.trigger === "step" ? fmt(t("step-of"), paging) : triggerLabel(paging.trigger));
    if (paging.next_at) {
      const left = Date.parse(paging.next_at) - now;
      parts.push(left > 0 ? fmt(t("next-step-in"), { time: duration(left) }) : t("next-step-now"));
    }
    return parts.join(" · ");
  };

  const paintPaging = (li, row, now) => {
    setText(li.querySelector(".q-paging"), pagingText(row, now));
    li.querySelector(".q-ack").hidden = !(row.status === "new" && pagedToMe(row));
  };

  const paintSla = (node, row, now) => {
    const sla = node.classList.contains("sla") ? node : node.querySelector(".sla");
    const current = slaState(row, now);
    if (sla.dataset.level !== current.level) sla.dataset.level = current.level;
    setText(sla.firstElementChild, current.kind);
    setText(sla.lastElementChild, current.text);
  };

  let renderQueued = false;
  const scheduleRender = () => {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(() => {
      renderQueued = false;
      renderQueue();
    });
  };

  const renderQueue = () => {
    const now = Date.now();
    const rows = [...state.queue.values()].sort(compareRows);
    const shown = rows.filter(passesFilters);
    const hadFocus = list.contains(document.activeElement);
    const keep = new Set(shown.map((row) => row.number));
    for (const [number, li] of rowNodes) {
      if (!keep.has(number)) {
        li.remove();
        rowNodes.delete(number);
      }
    }
    let previous = null;
    for (const row of shown) {
      let li = rowNodes.get(row.number);
      if (!li) {
        li = buildRow(row.number);
        rowNodes.set(row.number, li);
      }
      paintRow(li, row, now);
      const expected = previous ? previous.nextSibling : list.firstChild;
      if (expected !== li) list.insertBefore(li, expected);
      previous = li;
    }
    $("queue-empty").hidden = shown.length > 0;
    setText($("queue-count"), fmt(t("count"), { shown: shown.length, total: rows.length }));
    if (hadFocus && !list.contains(document.activeElement)) {
      const first = list.querySelector(".q-row");
      if (first) first.focus();
    }
  };

  const tick = () => {
    const now = Date.now();
    const open = state.openNumber !== null ? currentRow(state.openNumber) : null;
    if (open) {
      setText($("fact-paging"), pagingText(open, now) || "—");
      paintPanelSla(open, now);
    }
    for (const [number, li] of rowNodes) {
      const row = state.queue.get(number);
      if (row) {
        paintSla(li.firstElementChild, row, now);
        paintPaging(li, row, now);
      }
    }
  };

  // ---- Filters (remembered in this browser) --------------------------------------------------------------------
  for (const team of config.teams || []) {
    const option = el("option", "", nameOf(team));
    option.value = String(team.id);
    filters.team.append(option);
  }
  const FILTER_KEY = "helpdesk.console.filters";
  try {
    const saved = JSON.parse(localStorage.getItem(FILTER_KEY) || "{}");
    if ([...filters.team.options].some((o) => o.value === saved.team)) filters.team.value = saved.team;
    if ([...filters.priority.options].some((o) => o.value === saved.priority)) filters.priority.value = saved.priority;
    filters.mine.checked = Boolean(saved.mine);
    filters.unassigned.checked = Boolean(saved.unassigned);
  } catch {
    localStorage.removeItem(FILTER_KEY);
  }
  $("filters").addEventListener("change", () => {
    localStorage.setItem(FILTER_KEY, JSON.stringify({
      team: filters.team.value,
      priority: filters.priority.value,
      mine: filters.mine.checked,
      unassigned: filters.unassigned.checked,
    }));
    renderQueue();
  });
  $("filters").addEventListener("submit", (event) => event.preventDefault());

  // ---- Alerts: a beep and a browser notification for a new P1 -------------------------------------------------
  let audio = null;
  const unlockAudio = () => {
    if (!audio && window.AudioContext) audio = new AudioContext();
    if (audio && audio.state === "suspended") audio.resume();
  };
  document.addEventListener("pointerdown", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });

  const beep = () => {
    if (!audio) return;
    const start = audio.currentTime;
    for (const [offset, frequency] of [[0, 880], [0.25, 660], [0.5, 880]]) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.2, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.22);
    }
  };

  const alertsButton = $("alerts-toggle");
  const showAlertsState = () => {
    alertsButton.setAttribute("aria-pressed", state.alerts ? "true" : "false");
    alertsButton.textContent = state.alerts ? t("alerts-on") : t("alerts-off");
  };
  alertsButton.addEventListener("click", async () => {
    unlockAudio();
    if (state.alerts) {
      state.alerts = false;
      showAlertsState();
      return;
    }
    state.alerts = true;
    if ("Notification" in window && Notification.permission === "default") await Notification.requestPermission();
    if ("Notification" in window && Notification.permission === "denied") announce(t("alerts-blocked"), true);
    showAlertsState();
    beep();
  });

  const alertP1 = (row) => {
    beep();
    if (!state.alerts || !("Notification" in window) || Notification.permission !== "granted") return;
    let notification;
    try {
      notification = new Notification(fmt(t("new-p1-title"), { reference: row.reference }), {
        body: `${row.subject}\n${nameOf(row.agency)} · ${nameOf(row.service)}`,
        tag: `ticket-${row.number}`,
        requireInteraction: true,
      });
    } catch {
      return;
    }
    notification.addEventListener("click", () => {
      window.focus();
      openPanel(row.number);
      notification.close();
    });
  };

  const alertPaged = (row) => {
    beep();
    announce(fmt(t("you-are-paged"), { reference: row.reference, subject: row.subject }), true);
  };

  const announce = (text, urgent = false) => {
    const region = $(urgent ? "announce-urgent" : "announce-queue");
    const line = el("p", "", text);
    region.append(line);
    while (region.childElementCount > 5) region.firstElementChild.remove();
  };

  // ---- Connection ---------------------------------------------------------------------------------------------
  const connection = $("connection-status");
  const setConnection = (stateName, text) => {
    connection.dataset.state = stateName;
    $("connection-text").textContent = text || t(stateName);
  };

  let socket = null;
  let attempts = 0;
  let reconnectTimer = null;
  let watchdog = null;
  let stopped = false;
  const heartbeatMs = Math.max(1, Number(config.heartbeat_seconds) || 5) * 1000;

  const socketUrl = () => `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${config.ws_path}`;

  const send = (message) => {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(message));
      return true;
    }
    return false;
  };

  const armWatchdog = () => {
    clearTimeout(watchdog);
    // Three missed heartbeats: the socket is dead even if the browser has not noticed.
    watchdog = setTimeout(() => socket && socket.close(4000, "heartbeat timeout"), heartbeatMs * 3 + 1000);
  };

  const connect = () => {
    clearTimeout(reconnectTimer);
    if (stopped) return;
    socket = new WebSocket(socketUrl());
    const current = socket;
    current.addEventListener("open", () => {
      if (current !== socket) return;
      attempts = 0;
      armWatchdog();
    });
    current.addEventListener("message", (event) => {
      if (current !== socket) return;
      armWatchdog();
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      handle(message);
    });
    current.addEventListener("close", (event) => {
      if (current !== socket) return;
      clearTimeout(watchdog);
      failPending();
      if (event.code === 4401) {
        stopped = true;
        setConnection("offline", t("signed-out"));
        return;
      }
      if (event.code === 4403) {
        stopped = true;
        setConnection("offline", t("forbidden"));
        return;
      }
      scheduleReconnect();
    });
  };

  const scheduleReconnect = () => {
    attempts += 1;
    const offline = navigator.onLine === false || attempts > 4;
    setConnection(offline ? "offline" : "reconnecting");
    const delay = Math.min(15000, 500 * 2 ** Math.min(attempts - 1, 5)) * (0.75 + Math.random() * 0.5);
    reconnectTimer = setTimeout(connect, delay);
  };

  window.addEventListener("online", () => {
    if (!stopped && (!socket || socket.readyState !== WebSocket.OPEN)) {
      attempts = 0;
      connect();
    }
  });
  window.addEventListener("offline", () => {
    if (socket && socket.readyState !== WebSocket.OPEN) setConnection("offline");
  });

  // ---- Server messages ----------------------------------------------------------------------------------------
  const handle = (message) => {
    switch (message.type) {
      case "snapshot": return onSnapshot(message);
      case "snapshot.more": return onSnapshotMore(message);
      case "event": return onEvent(message, true);
      case "heartbeat": return onHeartbeat(message);
      case "resync": return onResync(message);
      case "presence": return onPresence(message);
      case "action.result": return onActionResult(message);
      default: return undefined;
    }
  };

  const onSnapshot = (message) => {
    const reconnecting = state.hadSnapshot && message.reason !== "resync";
    const resumeFrom = state.heartbeatCursor;
    if (message.me) state.me = { ...state.me, ...message.me, team_ids: message.me.team_ids || [] };
    state.queue = new Map();
    state.versions = new Map();
    for (const row of message.tickets) applyRow(row);
    state.highestCursor = message.cursor;
    state.heartbeatCursor = message.cursor;
    state.hadSnapshot = true;
    setConnection("connected");
    if (reconnecting) {
      // Events committed out of id order around the reconnect are caught by replaying from the old heartbeat.
      send({ type: "resync", since: Math.min(resumeFrom, message.cursor) });
      announce(t("resynced"));
    }
    if (state.openNumber !== null) {
      const row = state.queue.get(state.openNumber);
      if (row) refreshPanelRow(row);
      loadPanel(state.openNumber, false);
      send({ type: "view", ticket: state.openNumber });
    }
    renderQueue();
  };

  // A large queue arrives as one "snapshot" and then "snapshot.more" parts (a WebSocket message is capped at 1 MiB).
  const onSnapshotMore = (message) => {
    for (const row of message.tickets) applyRow(row);
    if (!message.more) renderQueue();
  };

  const PAGE_KINDS = new Set(["paged", "escalated", "sla_warning", "sla_breached"]);

  const onEvent = (message, live) => {
    seeCursor(message.cursor);
    const row = message.ticket;
    const changed = applyRow(row);
    const event = message.event;
    if (live && changed && event.kind === "opened" && state.queue.has(row.number)) {
      if (state.me.team_ids.includes(row.team.id)) state.fresh.add(row.number);
      announce(fmt(t("new-ticket"), {
        reference: row.reference, priority: priorityLabel(row.priority), subject: row.subject,
      }), row.priority === 1);
      if (row.priority === 1) alertP1(row);
    }
    if (live && changed && PAGE_KINDS.has(event.kind) && pagedToMe(row)) alertPaged(row);
    if (state.openNumber === event.ticket) schedulePanelReload();
    scheduleRender();
  };

  const onHeartbeat = (message) => {
    const since = state.heartbeatCursor;
    state.heartbeatCursor = message.cursor;
    if (message.cursor > state.highestCursor) send({ type: "resync", since });
  };

  const onResync = (message) => {
    for (const item of message.events) onEvent(item, false);
    seeCursor(message.cursor);
  };

  const onPresence = (message) => {
    state.presence = { online: message.online || [], tickets: message.tickets || {} };
    const others = state.presence.online.filter((user) => user.id !== state.me.id).map(personName);
    setText($("online-list"), others.length ? fmt(t("online"), { names: others.join(lang === "ar" ? "، " : ", ") }) : "");
    paintPresence();
    scheduleRender();
  };

  // ---- Ticket panel -------------------------------------------------------------------------------------------
  const panel = $("ticket-panel");
  const consoleRoot = $("console");
  const scroller = $("panel-scroll");
  let panelReloadTimer = null;
  let panelRequest = 0;
  // After the technician's own reply or note the conversation shows its end, where the new entry is.
  let scrollToEnd = false;

  const urlFor = (template, number, action) =>
    template.replace("/0/", `/${number}/`).replace("ACTION", action || "");

  // `row` is what the caller already knows of a ticket that may not be in the queue (a search result).
  const openPanel = (number, row = null) => {
    const changed = state.openNumber !== number;
    state.openNumber = number;
    state.fresh.delete(number);
    panel.hidden = false;
    consoleRoot.classList.add("has-panel");
    if (changed) {
      state.panelData = null;
      hideResult();
      for (const form of panel.querySelectorAll("form")) resetForm(form);
      for (const menu of panel.querySelectorAll("details")) menu.open = false;
      const known = state.queue.get(number) || row;
      if (known) refreshPanelRow(known);
      else setText($("panel-title"), "");
      $("panel-timeline").replaceChildren();
      $("panel-description").replaceChildren();
      $("panel-attachments").replaceChildren();
      scroller.scrollTop = 0;
      loadPanel(number, true);
      send({ type: "view", ticket: number });
    }
    paintPresence();
    renderQueue();
    panel.focus({ preventScroll: false });
  };

  const closePanel = () => {
    if (state.openNumber === null) return;
    const number = state.openNumber;
    stopTyping();
    state.openNumber = null;
    state.panelData = null;
    panel.hidden = true;
    consoleRoot.classList.remove("has-panel");
    send({ type: "view", ticket: null });
    renderQueue();
    const button = list.querySelector(`.q-row[data-number="${number}"]`) || list.querySelector(".q-row");
    if (button) button.focus();
  };

  const schedulePanelReload = () => {
    clearTimeout(panelReloadTimer);
    panelReloadTimer = setTimeout(() => {
      if (state.openNumber !== null) loadPanel(state.openNumber, false);
    }, 150);
  };

  const loadPanel = async (number, showLoading) => {
    const request = ++panelRequest;
    $("panel-loading").hidden = !showLoading;
    $("panel-error").hidden = true;
    try {
      const response = await fetch(urlFor(config.ticket_url, number), {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (request !== panelRequest || state.openNumber !== number) return;
      const data = await response.json().catch(() => null);
      if (!response.ok || !data || !data.ticket) {
        showPanelError((data && data.error) || t("load-failed"));
        return;
      }
      state.panelData = data;
      applyRow(data.ticket);
      fillPanel(data);
      scheduleRender();
    } catch {
      if (request === panelRequest) showPanelError(t("load-failed"));
    } finally {
      if (request === panelRequest) $("panel-loading").hidden = true;
    }
  };

  const showPanelError = (text) => {
    $("panel-error").textContent = text;
    $("panel-error").hidden = false;
  };

  const refreshPanelRow = (row) => {
    if (state.panelData && state.panelData.ticket.number === row.number) {
      if (row.version >= state.panelData.ticket.version) state.panelData.ticket = row;
      else row = state.panelData.ticket;
    }
    setText($("panel-reference"), row.reference);
    const badge = $("panel-priority");
    badge.dataset.priority = String(row.priority);
    setText(badge, priorityLabel(row.priority));
    setText($("panel-status"), statusLabel(row.status));
    setText($("panel-title"), row.subject);
    $("panel-title").title = row.subject;
    setText($("bar-status"), statusLabel(row.status));
    setText($("bar-assignee"), row.assignee ? personName(row.assignee) : t("nobody"));
    setText($("bar-priority"), `P${row.priority}`);
    setText($("fact-agency"), nameOf(row.agency));
    setText($("fact-service"), nameOf(row.service));
    setText($("fact-team"), nameOf(row.team));
    setText($("fact-assignee"), row.assignee ? personName(row.assignee) : t("unassigned"));
    setText($("fact-opened"), `${formatDate(row.opened_at)} · ${fmt(t("via"), { channel: channelLabel(row.channel) })}`);
    const paused = row.sla_paused_at ? ` · ${t("paused")}` : "";
    setText($("fact-response"), row.responded_at ? `${formatDate(row.response_due_at)} ✓` : `${formatDate(row.response_due_at)}${paused}`);
    setText($("fact-resolution"), `${formatDate(row.resolution_due_at)}${paused}`);
    setText($("fact-paging"), pagingText(row, Date.now()) || "—");
    paintPanelSla(row, Date.now());
    paintActions(row);
  };

  const paintPanelSla = (row, now) => {
    const sla = $("panel-sla");
    sla.hidden = !row.is_open;
    if (row.is_open) paintSla(sla, row, now);
  };

  // ---- What each control says: the ticket's state now, and why a button cannot be used ------------------------
  const statusSelect = $("status-select");
  const assignSelect = $("assign-select");
  const prioritySelect = $("priority-select");

  // The status select also names the statuses a technician cannot choose (a new ticket's), so it always shows the
  // current one.
  for (const [value, label] of Object.entries(labels.status || {})) {
    if (![...statusSelect.options].some((option) => option.value === value)) {
      const option = el("option", "", label);
      option.value = value;
      option.disabled = true;
      option.hidden = true;
      statusSelect.append(option);
    }
  }

  const isPending = (control) => [...state.pending.values()].some((item) => item.control === control);

  const explain = (control, reason) => {
    const why = isPending(control) ? t("sending") : reason;
    control.disabled = Boolean(why);
    if (why) control.title = why;
    else control.removeAttribute("title");
    const note = $(control.getAttribute("aria-describedby") || "");
    if (note) setText(note, why || "");
  };

  // A form holds the version of the ticket it was last painted from. Once the technician changes it, it is no longer
  // repainted, and it is sent with that version: if the ticket changed meanwhile the server refuses it as stale,
  // so a form can never send a value chosen against an old state.
  const resetForm = (form) => {
    form.reset();
    delete form.dataset.dirty;
    delete form.dataset.version;
  };

  const syncForm = (form, row, paint) => {
    if (form.dataset.dirty && form.dataset.version !== undefined) return;
    paint();
    form.dataset.version = String(row.version);
  };

  const submitButton = (form) => form.querySelector("button[type=submit]");

  const paintActions = (row) => {
    const mine = Boolean(row.assignee && row.assignee.id === state.me.id);
    const closed = t("why-closed");
    explain($("action-acknowledge"), row.status === "new" ? "" : row.is_open ? t("why-acknowledged") : closed);
    explain($("action-claim"), !row.is_open ? closed : mine && row.status !== "new" && row.status !== "acknowledged" ? t("why-mine") : "");

    const allowed = (config.transitions || {})[row.status] || [];
    syncForm($("form-status"), row, () => {
      statusSelect.value = row.status;
    });
    for (const option of statusSelect.options) {
      option.disabled = option.value === row.status || !allowed.includes(option.value);
    }
    const statusForm = $("form-status");
    statusForm.elements.note.disabled = !allowed.length;
    explain(submitButton(statusForm), !allowed.length ? closed : statusSelect.value === row.status ? t("why-same-status") : "");

    const assignee = row.assignee ? String(row.assignee.id) : "";
    syncForm($("form-assign"), row, () => {
      assignSelect.value = assignee;
    });
    assignSelect.disabled = !row.is_open;
    explain(submitButton($("form-assign")), !row.is_open ? closed : assignSelect.value === assignee ? t("why-same-assignee") : "");

    syncForm($("form-priority"), row, () => {
      prioritySelect.value = String(row.priority);
    });
    prioritySelect.disabled = !row.is_open;
    $("form-priority").elements.reason.disabled = !row.is_open;
    explain(submitButton($("form-priority")), !row.is_open ? closed : prioritySelect.value === String(row.priority) ? t("why-same-priority") : "");

    const replyOpen = row.is_open || row.status === "resolved";
    for (const [form, open] of [[$("form-reply"), replyOpen], [$("form-note"), row.is_open]]) {
      form.dataset.version = String(row.version);
      form.elements.body.disabled = !open;
      explain(submitButton(form), !open ? closed : form.elements.body.value.trim() ? "" : t("why-empty"));
    }
    $("saved-reply").disabled = !replyOpen;
  };

  for (const form of panel.querySelectorAll("form[data-action]")) {
    const changed = () => {
      if (form.dataset.action !== "reply" && form.dataset.action !== "note") form.dataset.dirty = "1";
      const row = state.openNumber !== null ? currentRow(state.openNumber) : null;
      if (row) paintActions(row);
    };
    form.addEventListener("input", changed);
    form.addEventListener("change", changed);
  }

  // A menu closed without sending forgets what was chosen in it: it shows the ticket as it is again.
  for (const menu of panel.querySelectorAll(".bar-menu")) {
    menu.addEventListener("toggle", () => {
      if (menu.open) {
        for (const other of panel.querySelectorAll(".bar-menu")) if (other !== menu) other.open = false;
        const first = menu.querySelector("select, input");
        if (first) first.focus();
        return;
      }
      const form = menu.querySelector("form");
      resetForm(form);
      const row = state.openNumber !== null ? currentRow(state.openNumber) : null;
      if (row) paintActions(row);
    });
  }

  const fillPanel = (data) => {
    const atEnd = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 40;
    const firstFill = !$("panel-timeline").childElementCount;
    refreshPanelRow(data.ticket);
    const requester = data.requester ? personName(data.requester) : data.requester_name || "—";
    const phone = [data.contact_phone, data.caller_phone].filter((value, index, all) => value && all.indexOf(value) === index).join(" · ");
    setText($("fact-requester"), requester);
    setText($("fact-phone"), phone || "—");
    const who = $("panel-who");
    who.replaceChildren(document.createTextNode(`${nameOf(data.ticket.agency)} · ${requester}`));
    if (phone) {
      const bdi = el("bdi", "", phone);
      bdi.dir = "ltr";
      who.append(document.createTextNode(" · "), bdi);
    }
    $("panel-agency-link").href = data.agency_ticket_url || "#";
    const description = $("panel-description");
    description.textContent = data.description || t("no-description");
    const attachments = $("panel-attachments");
    attachments.replaceChildren(...(data.attachments || []).map((item) => {
      const li = el("li");
      const link = el("a", "", item.name);
      link.href = item.url;
      link.dir = "auto";
      li.append(link, document.createTextNode(` (${Math.max(1, Math.round(item.size / 1024))} KB)`));
      return li;
    }));
    attachments.hidden = !attachments.childElementCount;
    // Oldest first, as the agency's page tells it: the conversation reads from the top, the reply box follows it.
    $("panel-timeline").replaceChildren(...(data.timeline || []).map(timelineItem));
    if (scrollToEnd || (atEnd && !firstFill)) scroller.scrollTop = scroller.scrollHeight;
    scrollToEnd = false;
  };

  const timelineItem = (item) => {
    const internal = !item.public || (item.comment && item.comment.internal);
    const li = el("li", internal ? "is-internal" : "");
    li.dataset.kind = item.kind;
    // The sentence is told by the server in the page's language (tickets/sentences.py).
    const text = el("p", "tl-text", item.sentence);
    if (internal) text.append(el("span", "tl-tag", t("internal")));
    li.append(text);
    li.append(el("p", "tl-meta", `${formatDate(item.created_at)} · ${fmt(t("via"), { channel: channelLabel(item.channel) })}`));
    const extra = item.comment ? item.comment.body : (item.after && (item.after.reason || item.after.note)) || "";
    if (extra) {
      const body = el("p", "tl-body", extra);
      body.dir = "auto";
      li.append(body);
    }
    return li;
  };

  const paintPresence = () => {
    const line = $("panel-presence");
    if (state.openNumber === null) {
      setText(line, "");
      return;
    }
    const viewers = viewersOf(state.openNumber);
    const parts = [];
    if (viewers.length) {
      parts.push(fmt(t("also-viewing"), { names: viewers.map(personName).join(lang === "ar" ? "، " : ", ") }));
    }
    for (const viewer of viewers.filter((v) => v.typing)) parts.push(fmt(t("is-typing"), { name: personName(viewer) }));
    setText(line, parts.join(" · "));
  };

  $("panel-close").addEventListener("click", closePanel);

  // ---- Actions ------------------------------------------------------------------------------------------------
  let requestSeq = 0;
  const result = $("action-result");

  const showResult = (ok, text) => {
    result.dataset.ok = String(ok);
    result.textContent = text;
    result.hidden = false;
  };
  const hideResult = () => {
    result.hidden = true;
    result.textContent = "";
  };

  const csrfToken = () => {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  };

  // `number` is the open ticket's, or a queue row's for its one-click acknowledge; `version` the one the form was
  // painted from (by default the newest the console holds).
  const runAction = async (action, fields, control, number = state.openNumber, version = null) => {
    const row = currentRow(number);
    if (number === null || !row) return;
    const requestId = `${Date.now().toString(36)}-${++requestSeq}`;
    const actedOn = version ?? row.version;
    state.pending.set(requestId, { action, control, number });
    control.disabled = true;
    if (number === state.openNumber) {
      showResult("pending", t("sending"));
      paintActions(row);
    }
    const message = { type: "action", request_id: requestId, action, ticket: number, version: actedOn, ...fields };
    if (send(message)) return;
    // The socket is down: the same action through the HTTP endpoint.
    const body = new FormData();
    body.append("version", String(actedOn));
    for (const [key, value] of Object.entries(fields)) body.append(key, value === null ? "" : String(value));
    try {
      const response = await fetch(urlFor(config.action_url, number, action), {
        method: "POST",
        body,
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({ ok: false, error: t("request-failed"), ticket: null }));
      onActionResult({ request_id: requestId, ok: Boolean(data.ok), error: data.error, ticket: data.ticket });
    } catch {
      onActionResult({ request_id: requestId, ok: false, error: t("request-failed"), ticket: null });
    }
  };

  const failPending = () => {
    for (const requestId of [...state.pending.keys()]) {
      onActionResult({ request_id: requestId, ok: false, error: t("request-failed"), ticket: null });
    }
  };

  const onActionResult = (message) => {
    const pending = state.pending.get(message.request_id);
    if (!pending) return;
    state.pending.delete(message.request_id);
    pending.control.disabled = false;
    const form = pending.control.form || null;
    if (message.ticket) {
      applyRow(message.ticket);
      scheduleRender();
    }
    if (pending.number !== state.openNumber) {
      if (!message.ok) announce(message.error || t("request-failed"), true);
      return;
    }
    if (message.ok) {
      showResult(true, t(`ok-${pending.action}`));
      if (form) {
        // Sent: the text boxes empty, the menu closes and shows the ticket as it is now.
        resetForm(form);
        const menu = form.closest(".bar-menu");
        if (menu) menu.open = false;
        if (pending.action === "reply" || pending.action === "note") scrollToEnd = true;
      }
      schedulePanelReload();
    } else {
      showResult(false, message.error || t("request-failed"));
      // What was chosen against an old state is shown again as the ticket is now; a text typed stays, to resend.
      if (form && form.dataset.action !== "reply" && form.dataset.action !== "note") {
        delete form.dataset.dirty;
        delete form.dataset.version;
      }
    }
    const row = currentRow(pending.number);
    if (row) paintActions(row);
  };

  for (const button of panel.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => runAction(button.dataset.action, {}, button));
  }

  const formFields = {
    assign: (form) => ({ assignee: form.elements.assignee.value ? Number(form.elements.assignee.value) : null }),
    status: (form) => ({ status: form.elements.status.value, note: form.elements.note.value.trim() }),
    priority: (form) => ({ priority: Number(form.elements.priority.value), reason: form.elements.reason.value.trim() }),
    note: (form) => ({ body: form.elements.body.value.trim() }),
    reply: (form) => ({ body: form.elements.body.value.trim() }),
  };

  for (const form of panel.querySelectorAll("form[data-action]")) {
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!form.reportValidity()) return;
      const action = form.dataset.action;
      if (action === "note" || action === "reply") stopTyping();
      const version = form.dataset.version !== undefined ? Number(form.dataset.version) : null;
      runAction(action, formFields[action](form), submitButton(form), state.openNumber, version);
    });
  }

  for (const technician of config.technicians || []) {
    const option = el("option", "", technician.id === state.me.id ? `${technician.name} ✓` : technician.name);
    option.value = String(technician.id);
    assignSelect.append(option);
  }

  // ---- Saved replies: picked into the reply box, to edit before sending -----------------------------------------
  const savedSelect = $("saved-reply");
  const savedReplies = new Map();
  for (const [language, key] of [["en", "saved-en"], ["ar", "saved-ar"]]) {
    const group = el("optgroup");
    group.label = t(key);
    const named = (reply) => (language === "ar" ? reply.name_ar : reply.name_en);
    const replies = [...(config.saved_replies || [])].sort((a, b) => named(a).localeCompare(named(b), language));
    for (const reply of replies) {
      const option = el("option", "", named(reply));
      option.value = `${reply.id}:${language}`;
      option.lang = language;
      savedReplies.set(option.value, language === "ar" ? reply.body_ar : reply.body_en);
      group.append(option);
    }
    if (group.childElementCount) savedSelect.append(group);
  }
  savedSelect.hidden = !savedReplies.size;
  savedSelect.addEventListener("change", () => {
    const text = savedReplies.get(savedSelect.value);
    savedSelect.value = "";
    if (!text) return;
    const area = $("reply-body");
    const start = area.selectionStart ?? area.value.length;
    const end = area.selectionEnd ?? area.value.length;
    area.setRangeText(text, start, end, "end");
    area.dispatchEvent(new Event("input", { bubbles: true }));
    area.focus();
  });

  // ---- Search: any ticket a technician may see, by number, words, name or phone --------------------------------
  const searchForm = $("search-form");
  const searchBox = $("search-results");
  const searchList = $("search-list");
  let searchRequest = 0;

  const searchItem = (row) => {
    const li = el("li");
    const button = el("button", "s-row");
    button.type = "button";
    button.dataset.number = String(row.number);
    const badge = el("span", "c-badge", `P${row.priority}`);
    badge.dataset.priority = String(row.priority);
    badge.title = priorityLabel(row.priority);
    const reference = el("bdi", "s-ref", row.reference);
    reference.dir = "ltr";
    const subject = el("span", "s-subject", row.subject);
    subject.dir = "auto";
    button.append(badge, reference, el("span", "c-status", statusLabel(row.status)), subject,
      el("span", "s-agency", `${nameOf(row.agency)} · ${formatDate(row.opened_at)}`));
    button.addEventListener("click", () => {
      applyRow(row);
      openPanel(row.number, row);
    });
    li.append(button);
    return li;
  };

  searchForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const query = $("search-q").value.trim();
    if (!query) {
      searchBox.hidden = true;
      return;
    }
    const request = ++searchRequest;
    searchBox.hidden = false;
    setText($("search-summary"), t("searching"));
    searchList.replaceChildren();
    try {
      const url = `${config.search_url}?${new URLSearchParams({ q: query })}`;
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const data = await response.json();
      if (request !== searchRequest) return;
      if (!response.ok) throw new Error(data.error);
      const rows = data.results || [];
      searchList.replaceChildren(...rows.map(searchItem));
      setText($("search-summary"), rows.length ? fmt(t("search-count"), { count: rows.length }) : fmt(t("search-none"), { query }));
      const first = searchList.querySelector(".s-row");
      if (first) first.focus();
    } catch {
      if (request === searchRequest) setText($("search-summary"), t("request-failed"));
    }
  });

  $("search-close").addEventListener("click", () => {
    searchBox.hidden = true;
    $("search-q").focus();
  });

  // ---- A new ticket for a caller, a visitor or an e-mail, opened without leaving the console ---------------------
  const dialog = $("new-ticket-dialog");
  const ticketForm = $("new-ticket-form");
  const agencySelect = ticketForm.elements.agency;
  const requesterSelect = ticketForm.elements.requester;
  const agencyFilter = $("nt-agency-filter");
  const noMember = requesterSelect.options[0].cloneNode(true);
  let members = [];

  const clearErrors = () => {
    $("nt-error").hidden = true;
    for (const node of ticketForm.querySelectorAll(".nt-field-error")) node.remove();
    for (const field of ticketForm.querySelectorAll("[aria-invalid]")) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
    }
  };

  const showErrors = (message, errors) => {
    $("nt-error").textContent = message;
    $("nt-error").hidden = false;
    let first = null;
    for (const [name, texts] of Object.entries(errors || {})) {
      const wrapper = ticketForm.querySelector(`[data-field="${name}"]`);
      const control = ticketForm.elements[name];
      if (!wrapper) continue;
      const note = el("p", "nt-field-error", texts.join(" "));
      note.id = `nt-error-${name}`;
      wrapper.append(note);
      if (control && control.setAttribute) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", note.id);
        first = first || control;
      }
    }
    (first || $("nt-error")).focus?.();
  };

  // The requester is a member of the chosen agency, or someone known by a name and phone.
  const paintRequester = () => {
    const member = members.find((item) => String(item.id) === requesterSelect.value);
    const nameField = ticketForm.querySelector('[data-field="requester_name"]');
    nameField.hidden = Boolean(member);
    ticketForm.elements.requester_name.required = !member;
    ticketForm.elements.contact_phone.required = !member;
    if (member && member.phone && !ticketForm.elements.contact_phone.value) {
      ticketForm.elements.contact_phone.value = member.phone;
    }
  };

  const loadMembers = async () => {
    members = [];
    requesterSelect.replaceChildren(noMember.cloneNode(true));
    paintRequester();
    if (!agencySelect.value) return;
    const agency = agencySelect.value;
    try {
      const response = await fetch(urlFor(config.members_url, agency), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      const data = await response.json();
      if (agencySelect.value !== agency) return;
      members = data.members || [];
      for (const member of members) {
        const option = el("option", "", member.phone ? `${member.name} (${member.phone})` : member.name);
        option.value = String(member.id);
        requesterSelect.append(option);
      }
    } catch {
      members = [];
    }
    paintRequester();
  };

  agencyFilter.addEventListener("input", () => {
    const words = agencyFilter.value.trim().toLowerCase();
    let firstMatch = null;
    for (const option of agencySelect.options) {
      if (!option.value) continue;
      const match = !words || option.textContent.toLowerCase().includes(words) || (option.dataset.names || "").includes(words);
      option.hidden = !match;
      if (match && !firstMatch) firstMatch = option;
    }
    if (words && firstMatch && (agencySelect.selectedOptions[0]?.hidden || !agencySelect.value)) {
      agencySelect.value = firstMatch.value;
      loadMembers();
    }
  });
  // Each agency is found by its English or Arabic name and its code, whichever language the page is in.
  for (const agency of config.agencies || []) {
    const option = [...agencySelect.options].find((item) => item.value === String(agency.id));
    if (option) option.dataset.names = `${agency.code} ${agency.name_en} ${agency.name_ar}`.toLowerCase();
  }
  const paintPriority = () => {
    const priority = (config.priority_matrix || {})[`${ticketForm.elements.impact.value}-${ticketForm.elements.urgency.value}`];
    setText($("nt-priority"), priority ? fmt(t("nt-priority"), { priority: priorityLabel(priority) }) : "");
  };
  ticketForm.elements.impact.addEventListener("change", paintPriority);
  ticketForm.elements.urgency.addEventListener("change", paintPriority);
  ticketForm.addEventListener("reset", () => setTimeout(paintPriority));
  agencySelect.addEventListener("change", loadMembers);
  requesterSelect.addEventListener("change", paintRequester);

  const openDialog = () => {
    clearErrors();
    dialog.showModal();
    agencyFilter.focus();
  };
  const closeDialog = () => dialog.close();

  $("new-ticket-open").addEventListener("click", openDialog);
  $("new-ticket-close").addEventListener("click", closeDialog);
  $("new-ticket-cancel").addEventListener("click", closeDialog);

  ticketForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    if (!ticketForm.reportValidity()) return;
    const submit = $("new-ticket-submit");
    submit.disabled = true;
    submit.title = t("sending");
    try {
      const response = await fetch(ticketForm.action, {
        method: "POST",
        body: new FormData(ticketForm),
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
        credentials: "same-origin",
      });
      const data = await response.json().catch(() => ({ ok: false, error: t("request-failed") }));
      if (!data.ok) {
        showErrors(data.error || t("request-failed"), data.errors);
        return;
      }
      ticketForm.reset();
      agencyFilter.dispatchEvent(new Event("input"));
      await loadMembers();
      closeDialog();
      applyRow(data.ticket);
      scheduleRender();
      openPanel(data.ticket.number, data.ticket);
      showResult(true, fmt(t("ok-opened"), { reference: data.ticket.reference }));
    } catch {
      showErrors(t("request-failed"), {});
    } finally {
      submit.disabled = false;
      submit.removeAttribute("title");
    }
  });

  // ---- Typing -------------------------------------------------------------------------------------------------
  let typingTicket = null;
  let typingSentAt = 0;
  let typingIdle = null;

  const stopTyping = () => {
    clearTimeout(typingIdle);
    if (typingTicket !== null) send({ type: "typing", ticket: typingTicket, typing: false });
    typingTicket = null;
    typingSentAt = 0;
  };

  for (const area of panel.querySelectorAll("textarea")) {
    area.addEventListener("input", () => {
      if (state.openNumber === null) return;
      const now = Date.now();
      if (typingTicket !== state.openNumber || now - typingSentAt > 3000) {
        typingTicket = state.openNumber;
        typingSentAt = now;
        send({ type: "typing", ticket: typingTicket, typing: true });
      }
      clearTimeout(typingIdle);
      typingIdle = setTimeout(stopTyping, 4000);
    });
    area.addEventListener("blur", stopTyping);
  }

  // ---- Keyboard -----------------------------------------------------------------------------------------------
  const moveFocus = (step) => {
    const rows = [...list.querySelectorAll(".q-row")];
    if (!rows.length) return;
    const index = rows.indexOf(document.activeElement);
    let next;
    if (index === -1) {
      const remembered = rows.findIndex((row) => Number(row.dataset.number) === state.focusNumber);
      next = remembered === -1 ? 0 : remembered;
    } else {
      next = Math.min(rows.length - 1, Math.max(0, index + step));
    }
    rows[next].focus();
    rows[next].scrollIntoView({ block: "nearest" });
  };

  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || dialog.open) return;
    const target = event.target;
    const typing = target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]");
    if (event.key === "Escape" && state.openNumber !== null) {
      event.preventDefault();
      // Escape in an open menu of the action bar closes the menu, not the ticket.
      const menu = target instanceof HTMLElement && target.closest("details[open]");
      if (menu) {
        menu.open = false;
        menu.querySelector("summary").focus();
        return;
      }
      // A first Escape leaves a field that holds text, so a half-written reply is not lost by accident.
      if (typing && "value" in target && target.value) {
        panel.focus();
        return;
      }
      closePanel();
      return;
    }
    if (typing) return;
    if (event.key === "n") {
      event.preventDefault();
      openDialog();
      return;
    }
    if (event.key === "/") {
      event.preventDefault();
      $("search-q").focus();
      return;
    }
    const arrowsFree = target === document.body || list.contains(target);
    if (event.key === "j" || (event.key === "ArrowDown" && arrowsFree)) {
      event.preventDefault();
      moveFocus(1);
    } else if (event.key === "k" || (event.key === "ArrowUp" && arrowsFree)) {
      event.preventDefault();
      moveFocus(-1);
    }
  });

  // ---- Start --------------------------------------------------------------------------------------------------
  showAlertsState();
  renderQueue();
  setInterval(tick, 1000);
  connect();
})();
