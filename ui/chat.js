// js_on_load of the chat (gr.HTML): `element` is the component, `watch` runs after a re-render.
// - A citation marker (a button) shows its quote in a popover on hover, focus and tap (CSS), and a
//   click scrolls the documents panel to the highlighted quote; when that moved the whole page (phones),
//   a "Back to answer" button returns to the marker.
// - The Ask button is disabled while the box is empty or a question is being answered; Enter and
//   clicks do nothing then (no empty bubbles, no double submits).
// - A new answer is announced in the live region (#rag-live) in its own words (the bot message's
//   data-say, made by ui/render.py: the short answer or the first quote, no marker digits) and
//   scrolled into view.
// - "Skip to sources" (a button after Ask, shown when focused: Tab, Enter from the question box, or
//   Tab, Tab, Enter while the box holds text) moves focus to the latest answer's first quote marker.
// - Escape on a marker hides its popover and keeps focus on the marker; Escape in the documents
//   panel (after a click on a marker) returns focus to that marker.
// - Copy buttons copy an answer with its sources.
const box = () => document.querySelector("#rag-question textarea");
const askButton = () => document.querySelector("button#rag-ask") || document.querySelector("#rag-ask button");
let busy = false;
let busySince = 0;

function syncAsk() {
  const b = askButton();
  const t = box();
  if (busy && !element.querySelector('.turn[data-kind="pending"]') && Date.now() - busySince > 8000) {
    busy = false; // the server never started this question (an error): let the user try again
  }
  if (b && t) {
    const off = busy || !t.value.trim();
    b.disabled = off;
    b.setAttribute("aria-disabled", String(off));
  }
  if (b && (!skipButton || !skipButton.isConnected)) b.insertAdjacentElement("afterend", ragSkipButton());
}

// ---- skip to sources: from the question box to the latest answer's first quote
let skipButton = null;

function ragSkipButton() {
  if (skipButton) return skipButton;
  skipButton = document.createElement("button");
  skipButton.type = "button";
  skipButton.id = "rag-skip";
  skipButton.className = "rag-skip";
  skipButton.textContent = "Skip to sources";
  skipButton.addEventListener("click", ragSkipToSources);
  return skipButton;
}

function ragSkipToSources() {
  const done = element.querySelectorAll('.turn:not([data-kind="pending"])');
  const last = done[done.length - 1];
  const target = last && (last.querySelector(".quotes button.cite") || last.querySelector(".may-help li"));
  if (!target) {
    const live = document.getElementById("rag-live");
    if (live) live.textContent = "No sources yet: ask a question first.";
    return;
  }
  if (!target.matches("button")) target.tabIndex = -1;
  target.scrollIntoView({ block: "center" });
  target.focus({ preventScroll: true });
}

function startAsking() {
  busy = true;
  busySince = Date.now();
  setTimeout(syncAsk, 0);
}

document.addEventListener(
  "keydown",
  (event) => {
    if (event.key !== "Enter" || event.shiftKey || !event.target.closest || !event.target.closest("#rag-question")) return;
    if (busy || !event.target.value.trim()) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    startAsking();
  },
  true,
);

document.addEventListener(
  "click",
  (event) => {
    if (!event.target.closest) return;
    const ask = event.target.closest("#rag-ask");
    const example = event.target.closest("#rag-examples button");
    if (!ask && !example) return;
    const t = box();
    if (busy || (ask && (!t || !t.value.trim()))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    startAsking();
  },
  true,
);

document.addEventListener("input", (event) => {
  if (event.target.closest && event.target.closest("#rag-question")) syncAsk();
});
setInterval(syncAsk, 400); // Gradio sets the box's value without input events (after an answer, a reload)

// ---- citations: scroll to the quote, and back
let backButton = null;
let cameFrom = null;

function ragBackButton() {
  if (backButton) return backButton;
  backButton = document.createElement("button");
  backButton.type = "button";
  backButton.className = "rag-back";
  backButton.textContent = "Back to answer";
  backButton.hidden = true;
  backButton.addEventListener("click", () => {
    backButton.hidden = true;
    if (!cameFrom || !cameFrom.isConnected) return;
    cameFrom.scrollIntoView({ block: "center" });
    cameFrom.focus({ preventScroll: true });
  });
  document.body.appendChild(backButton);
  return backButton;
}

function ragShowQuote(n, from) {
  const mark = document.getElementById("rag-mark-" + n);
  if (!mark) return;
  const target = mark.closest("mark") || mark;
  const panel = target.closest(".rag-article");
  if (panel && panel.scrollHeight > panel.clientHeight) {
    const offset = target.getBoundingClientRect().top - panel.getBoundingClientRect().top;
    panel.scrollTop += offset - panel.clientHeight / 3;
  }
  const r = target.getBoundingClientRect();
  if (r.top < 0 || r.bottom > window.innerHeight) {
    target.scrollIntoView({ block: "center", behavior: "instant" });
    cameFrom = from;
    ragBackButton().hidden = false; // the page moved away from the answer
  }
  document.querySelectorAll(".rag-article mark.flash").forEach((m) => m.classList.remove("flash"));
  void target.offsetWidth; // restart the animation
  target.classList.add("flash");
  cameFrom = from;
}

element.addEventListener("click", (event) => {
  const copy = event.target.closest("button.copy");
  if (copy) {
    ragCopy(copy);
    return;
  }
  const cite = event.target.closest("[data-cite]");
  if (!cite) return;
  event.preventDefault();
  cite.focus({ preventScroll: true }); // Safari does not focus buttons on click; the popover follows focus
  ragShowQuote(cite.dataset.cite, cite);
});

element.addEventListener("keydown", (event) => {
  const cite = event.key === "Escape" && event.target.closest && event.target.closest("button.cite");
  if (!cite) return;
  cite.classList.add("dismissed"); // the popover hides; focus stays on its marker
  cite.focus({ preventScroll: true });
});
element.addEventListener("focusout", (event) => {
  const cite = event.target.closest && event.target.closest("button.cite");
  if (cite) cite.classList.remove("dismissed");
});
element.addEventListener("mouseout", (event) => {
  const cite = event.target.closest && event.target.closest("button.cite.dismissed");
  if (cite && !cite.contains(event.relatedTarget)) cite.classList.remove("dismissed");
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape" || !cameFrom || !cameFrom.isConnected) return;
  const t = event.target;
  if (!t.closest || !(t.closest(".rag-article") || t.closest(".rag-back"))) return;
  if (backButton) backButton.hidden = true;
  cameFrom.scrollIntoView({ block: "center" });
  cameFrom.focus({ preventScroll: true });
});

function ragCopy(button) {
  const text = button.dataset.copy || "";
  const done = () => {
    button.textContent = "Copied";
    setTimeout(() => (button.textContent = "Copy"), 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(done, () => fallbackCopy(text) && done());
  } else if (fallbackCopy(text)) {
    done();
  }
}

function fallbackCopy(text) {
  const area = document.createElement("textarea");
  area.value = text;
  area.setAttribute("readonly", "");
  area.style.position = "fixed";
  area.style.opacity = "0";
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch (e) {}
  area.remove();
  return ok;
}

// ---- after each render: busy state, the live region, scrolling to the newest turn
let announced = "";

watch("value", () => {
  const turns = element.querySelectorAll(".turn");
  const last = turns[turns.length - 1];
  busy = !!(last && last.dataset.kind === "pending");
  syncAsk();
  setTimeout(syncAsk, 100);
  if (backButton) backButton.hidden = true;
  const live = document.getElementById("rag-live");
  if (live && last && !busy) {
    const bot = last.querySelector(".msg.bot");
    const said = bot ? (bot.dataset.say || "").trim() : "";
    const text = !said ? "" : last.dataset.kind === "answer" ? "Answer: " + said : said;
    if (text && text !== announced) {
      live.textContent = text;
      announced = text;
    }
  } else if (live && !last) {
    announced = "";
  }
  const log = element.querySelector(".rag-chat");
  if (!log || !last) return;
  if (log.scrollHeight > log.clientHeight) {
    log.scrollTop = last.offsetTop - log.offsetTop - 8;
  } else {
    const r = last.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight * 0.5) last.scrollIntoView({ block: "start" });
  }
});
