// Layout checks run in the page after Plotly has drawn every chart. Returns a list of problems
// {chart, check, detail}; an empty list means the page passes. `ids` are the taxonomy's ids
// (domains, LLM segments, baskets, ticker segments): a table cell that is exactly one of them, or
// any snake_case token, is a raw identifier a reader should never see.
(ids) => {
  const problems = [];
  const add = (chart, check, detail) => problems.push({chart, check, detail});
  const TOL = 1;  // px
  const rect = (el) => el.getBoundingClientRect();
  const visible = (r) => r.width > 0.5 && r.height > 0.5;
  const overlap = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > TOL &&
                            Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > TOL;
  const SNAKE = /\b[a-z][a-z0-9]*_[a-z0-9_]+\b/;
  const SNAKE_CELL = /^[a-z][a-z0-9]*(_[a-z0-9]+)+$/;
  const SNAKE_TOKENS = /\b[a-z][a-z0-9]*_[a-z0-9_]+\b/g;
  const idSet = new Set(ids);

  for (const gd of document.querySelectorAll('.js-plotly-plot')) {
    const chart = gd.id || '(unnamed chart)';
    const full = gd._fullLayout;
    if (!full) { add(chart, 'drawn', 'Plotly did not draw this chart'); continue; }
    const box = rect(gd.querySelector('svg.main-svg'));
    // every chart has a title
    const title = gd.querySelector('.g-gtitle text');
    if (!title || !title.textContent.trim()) add(chart, 'titles', 'chart has no title');
    const axisIds = Object.keys(full).filter((k) => /^[xy]axis\d*$/.test(k))
      .map((k) => full[k]).filter((ax) => ax && ax.visible !== false && ax._id);
    const plotAreas = [...gd.querySelectorAll('.draglayer .nsewdrag')].map(rect).filter(visible);
    const axisTitles = [];
    const tickLabels = [];
    for (const ax of axisIds) {
      const ticks = [...gd.querySelectorAll(`g.${ax._id}tick text`)]
        .filter((t) => t.textContent.trim() && visible(rect(t)));
      ticks.forEach((t) => tickLabels.push({ax: ax._id, el: t, r: rect(t)}));
      const tEl = gd.querySelector(`.g-${ax._id}title text`);
      const tText = tEl ? tEl.textContent.trim() : '';
      if (tText) axisTitles.push({ax: ax._id, r: rect(tEl), text: tText});
      // every axis that labels its ticks has a title
      if (ax.showticklabels && ticks.length && !tText) add(chart, 'titles', `axis ${ax._id} has no title`);
      // a category axis shows one label per category
      if (ax.type === 'category' && ax.showticklabels) {
        const n = (ax._categories || []).length;
        const shown = new Set(ticks.map((t) => t.textContent.trim())).size;
        if (n && shown < n) add(chart, 'category_labels', `axis ${ax._id}: ${shown} labels for ${n} categories`);
      }
    }
    // no tick label is clipped by the chart's box
    for (const t of tickLabels) {
      const r = t.r;
      if (r.left < box.left - TOL || r.right > box.right + TOL || r.top < box.top - TOL || r.bottom > box.bottom + TOL) {
        add(chart, 'tick_clipped', `axis ${t.ax}: tick label "${t.el.textContent}" crosses the chart's edge`);
      }
    }
    // tick labels of one axis do not overlap each other (unrotated labels: a rotated label's box
    // overlaps its neighbours' boxes without its glyphs touching them)
    const byAxis = {};
    for (const t of tickLabels) (byAxis[t.ax] = byAxis[t.ax] || []).push(t);
    for (const [axId, ts] of Object.entries(byAxis)) {
      const flat = ts.filter((t) => !/rotate\((?!0[,)])/.test(t.el.getAttribute('transform') || ''));
      let hit = null;
      for (let i = 0; i < flat.length && !hit; i++) {
        for (let j = i + 1; j < flat.length; j++) if (overlap(flat[i].r, flat[j].r)) { hit = [flat[i], flat[j]]; break; }
      }
      if (hit) add(chart, 'tick_overlap', `axis ${axId}: "${hit[0].el.textContent}" overlaps "${hit[1].el.textContent}"`);
    }
    // a numeric axis never repeats a tick label (a format that rounds 0.5 and 1 both to "1")
    for (const ax of axisIds) {
      if (ax.type === 'category') continue;
      const texts = (byAxis[ax._id] || []).map((t) => t.el.textContent.trim());
      const dup = texts.find((t, i) => texts.indexOf(t) !== i);
      if (dup !== undefined) add(chart, 'tick_duplicate', `axis ${ax._id}: tick label "${dup}" repeats`);
    }
    // axis titles overlap neither each other nor another axis's tick labels
    for (let i = 0; i < axisTitles.length; i++) {
      for (let j = i + 1; j < axisTitles.length; j++) {
        if (overlap(axisTitles[i].r, axisTitles[j].r)) {
          add(chart, 'title_overlap', `"${axisTitles[i].text}" overlaps "${axisTitles[j].text}"`);
        }
      }
      for (const t of tickLabels) {
        if (t.ax !== axisTitles[i].ax && overlap(axisTitles[i].r, t.r)) {
          add(chart, 'title_overlap', `"${axisTitles[i].text}" overlaps a ${t.ax} tick label`);
          break;
        }
      }
    }
    // legends overlap no axis title, tick label or plot area
    for (const lg of gd.querySelectorAll('g.legend')) {
      const bg = lg.querySelector('rect.bg');
      const lr = rect(bg || lg);
      if (!visible(lr)) continue;
      for (const t of axisTitles) if (overlap(lr, t.r)) add(chart, 'legend_overlap', `legend over the ${t.ax} title "${t.text}"`);
      for (const t of tickLabels) if (overlap(lr, t.r)) { add(chart, 'legend_overlap', `legend over a ${t.ax} tick label "${t.el.textContent}"`); break; }
      for (const p of plotAreas) if (overlap(lr, p)) { add(chart, 'legend_overlap', 'legend over the plot area'); break; }
      if (lr.left < box.left - TOL || lr.right > box.right + TOL || lr.bottom > box.bottom + TOL || lr.top < box.top - TOL) {
        add(chart, 'legend_overlap', "legend crosses the chart's edge");
      }
      // legend entries are display names
      for (const e of lg.querySelectorAll('text.legendtext')) {
        const s = e.textContent.trim();
        if (SNAKE.test(s) || idSet.has(s)) add(chart, 'raw_identifier', `legend entry "${s}"`);
      }
    }
    for (const t of tickLabels) {
      const s = t.el.textContent.trim();
      if (SNAKE.test(s) || idSet.has(s)) add(chart, 'raw_identifier', `tick label "${s}"`);
    }
  }

  // tables a reader sees (the header's parameter list names parameters on purpose)
  for (const table of document.querySelectorAll('table')) {
    if (table.closest('.aibubble-header')) continue;
    const where = (table.closest('.jp-Cell') && table.closest('.jp-Cell').id) || 'table';
    for (const cell of table.querySelectorAll('th, td, caption')) {
      const s = cell.textContent.trim();
      if (!s) continue;
      if (/00:00:00/.test(s)) add(where, 'table_format', `cell "${s}" shows a time of 00:00:00`);
      if (/\d\.\d{4,}/.test(s)) add(where, 'table_format', `cell "${s}" has more than 3 decimals`);
      // a cell that is an identifier (a column name, a vocabulary or taxonomy id), or a taxonomy
      // id with an underscore inside text; statistics' names in prose (n_eff) are words there
      const token = (s.match(SNAKE_TOKENS) || []).find((w) => idSet.has(w));
      if (SNAKE_CELL.test(s) || idSet.has(s) || token) {
        add(where, 'raw_identifier', `cell "${s.slice(0, 80)}" shows the identifier "${token || s}"`);
      }
    }
  }
  return problems;
}
