// js_on_load of the chat (gr.HTML): `element` is the component, `watch` runs after a re-render.
// A click on a citation marker scrolls the article panel to its highlighted quote and flashes it;
// a new answer scrolls the chat to the newest turn.
function ragShowQuote(n) {
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
    target.scrollIntoView({ block: "center", behavior: "smooth" });
  }
  document.querySelectorAll(".rag-article mark.flash").forEach((m) => m.classList.remove("flash"));
  void target.offsetWidth; // restart the animation
  target.classList.add("flash");
}

element.addEventListener("click", (event) => {
  const link = event.target.closest("[data-cite]");
  if (!link) return;
  event.preventDefault();
  ragShowQuote(link.dataset.cite);
});

watch("value", () => {
  const log = element.querySelector(".rag-chat");
  const turns = element.querySelectorAll(".turn");
  const last = turns[turns.length - 1];
  if (!log || !last) return;
  if (log.scrollHeight > log.clientHeight) {
    log.scrollTop = last.offsetTop - log.offsetTop - 8;
  } else {
    const r = last.getBoundingClientRect();
    if (r.top < 0 || r.top > window.innerHeight * 0.5) last.scrollIntoView({ block: "start" });
  }
});
