// Computed contrast of every visible text node against its effective background (WCAG 2 formula).
// Run by tests/test_ui_browser.py through Playwright's page.evaluate; returns one row per text node
// (and per shown placeholder): its text, contrast ratio, colours and where it is.
// The background is every ancestor's background colour composited from the page down; text colour
// is composited with the opacity of its ancestors. Text clipped away for screen readers is skipped.
() => {
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(parseFloat);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => {
    const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]);
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const backdrop = (el) => {
    const chain = [];
    for (let e = el; e; e = e.parentElement) chain.push(e);
    let bg = [255, 255, 255, 1];
    let image = "";
    for (const e of chain.reverse()) {
      const s = getComputedStyle(e);
      const c = parse(s.backgroundColor);
      if (c && c[3] > 0) bg = over(c, bg);
      if (s.backgroundImage && s.backgroundImage !== "none") image = s.backgroundImage;
    }
    return [bg, image];
  };
  const opacity = (el) => { let o = 1; for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity); return o; };
  const results = [];
  const check = (el, text, fg) => {
    const [bg, image] = backdrop(el);
    const color = over([fg[0], fg[1], fg[2], fg[3] * opacity(el)], bg);
    const r = ratio(color, bg);
    results.push({ text: text.slice(0, 60), ratio: Math.round(r * 100) / 100, fg: fg.join(","), bg: bg.slice(0, 3).map(Math.round).join(","), image: image.slice(0, 60),
      where: (el.id ? "#" + el.id : "") + "." + String(el.className).slice(0, 40) + " in " + (el.closest("[id]") || {}).id });
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.nodeValue.trim();
    if (!text) continue;
    const el = n.parentElement;
    if (!el || el.closest("script, style, noscript, template")) continue;
    const s = getComputedStyle(el);
    if (s.visibility !== "visible") continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    const rects = [...range.getClientRects()].filter((r) => r.width > 1 && r.height > 1);
    if (!rects.length) continue;
    // clipped away (screen-reader-only text): the clip rect of an ancestor
    let clipped = false;
    for (let e = el; e; e = e.parentElement) { const cs = getComputedStyle(e); if (cs.clip && cs.clip !== "auto" && cs.position === "absolute") { clipped = true; break; } }
    if (clipped) continue;
    check(el, text, parse(s.color));
  }
  for (const input of document.querySelectorAll("textarea[placeholder], input[placeholder]")) {
    if (!input.placeholder || input.value || !input.getClientRects().length) continue;
    check(input, "placeholder: " + input.placeholder, parse(getComputedStyle(input, "::placeholder").color));
  }
  return results;
}
