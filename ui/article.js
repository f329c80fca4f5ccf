// js_on_load of the article panel (gr.HTML): after a new answer, bring its first quote into the
// panel's view (the panel scrolls, the page does not).
watch("value", () => {
  const panel = element.querySelector(".rag-article");
  const mark = element.querySelector("mark.current");
  if (!panel || !mark || panel.scrollHeight <= panel.clientHeight) return;
  const offset = mark.getBoundingClientRect().top - panel.getBoundingClientRect().top;
  panel.scrollTop += offset - panel.clientHeight / 3;
});
