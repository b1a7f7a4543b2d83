// Live agency pages: the ticket list and a ticket page follow their agency's public events over /ws/tickets/.
// An event (or a heartbeat or resync showing a newer cursor) makes the page fetch itself again over HTTP and swap
// the regions marked data-live-region; a reply being typed is never touched. Without JavaScript the page is the same,
// only not live.
(() => {
  "use strict";
  const marker = document.querySelector("[data-live-page]");
  if (!marker || !("WebSocket" in window)) return;
  const ticket = marker.dataset.liveTicket || "";
  let cursor = null;
  let socket = null;
  let retry = 1000;
  let fetching = false;
  let again = false;

  function concerns(number) {
    return !ticket || String(number) === ticket;
  }

  async function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const response = await fetch(window.location.href, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) return;
      const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
      document.querySelectorAll("[data-live-region]").forEach((region) => {
        const next = fresh.querySelector(`[data-live-region="${region.dataset.liveRegion}"]`);
        if (next && next.innerHTML !== region.innerHTML) region.innerHTML = next.innerHTML;
      });
    } catch (error) {
      again = true;
    } finally {
      fetching = false;
      if (again) { again = false; window.setTimeout(refresh, 500); }
    }
  }

  function advance(to) {
    if (typeof to === "number" && (cursor === null || to > cursor)) cursor = to;
  }

  function onMessage(message) {
    if (message.type === "hello") {
      marker.dataset.liveState = "connected";
      // After a reconnect, ask for what happened while the socket was down.
      if (cursor !== null && message.cursor > cursor) socket.send(JSON.stringify({ type: "resync", since: cursor }));
      else advance(message.cursor);
    } else if (message.type === "event") {
      if (concerns(message.ticket)) refresh();
      advance(message.cursor);
    } else if (message.type === "heartbeat") {
      if (cursor !== null && message.cursor > cursor) socket.send(JSON.stringify({ type: "resync", since: cursor }));
    } else if (message.type === "resync") {
      if (message.reload || (message.events || []).some((event) => concerns(event.ticket))) refresh();
      advance(message.cursor);
    }
  }

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(`${scheme}${window.location.host}/ws/tickets/`);
    socket.addEventListener("open", () => { retry = 1000; });
    socket.addEventListener("message", (event) => {
      try { onMessage(JSON.parse(event.data)); } catch (error) { /* ignore a malformed message */ }
    });
    socket.addEventListener("close", (event) => {
      marker.dataset.liveState = "closed";
      // 4401: logged out; 4403: no longer allowed. Neither gets better by retrying.
      if (event.code === 4401 || event.code === 4403) return;
      window.setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    });
  }

  connect();
})();
