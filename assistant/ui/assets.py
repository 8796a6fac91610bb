"""The page's look and behaviour as strings: CSS, the `<head>` snippet and the small scripts
components run. A leaf: no imports, so the server (or `webapp`) can read `CSS`/`HEAD` without
importing gradio or the rest of the page.
"""

CSS = """
.badge{display:inline-block;padding:1px 8px;border-radius:999px;font-size:.8em;margin:0 4px 2px 0;border:1px solid transparent;white-space:nowrap}
.badge-yes{background:#e7f6ec;color:#146c2e;border-color:#b7e1c3}
.badge-conditional{background:#fff4e0;color:#8a5300;border-color:#f3d19c}
.badge-no{background:#fdeaea;color:#a11d1d;border-color:#f2b8b8}
.badge-fit{background:#e8f0fe;color:#1a4fb4;border-color:#bcd0f7}
.badge-fit,.badge-nofit{white-space:normal;max-width:100%}
.badge-nofit{background:#f1f1f1;color:#555;border-color:#ddd}
.rec-card{border:1px solid var(--border-color-primary);border-radius:10px;padding:10px 12px;margin-bottom:8px;background:var(--background-fill-secondary)}
.rec-head{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin-bottom:4px}
.rec-name{font-weight:600;font-size:1.05em;margin-right:6px}
.rec-meta{font-size:.88em;opacity:.85;margin-bottom:4px}
.rec-reason{font-size:.9em}
.panel-empty{opacity:.6;font-size:.9em}
.why-not li{margin-bottom:2px;font-size:.9em}
.src details{border:1px solid var(--border-color-primary);border-radius:8px;padding:6px 10px;margin-bottom:6px}
.src summary{cursor:pointer;font-weight:500}
.src .src-kind{font-size:.8em;opacity:.7;margin-left:6px}
.src .src-text{white-space:pre-wrap;font-size:.88em;margin-top:6px;line-height:1.5}
.cmp table{border-collapse:collapse;width:100%;font-size:.9em}
.cmp th,.cmp td{border:1px solid var(--border-color-primary);padding:6px 8px;vertical-align:top;text-align:left}
.cmp th{background:var(--background-fill-secondary);white-space:nowrap}
.entry h3{margin:0 0 6px 0}
.entry .passage{white-space:pre-wrap;border-left:3px solid var(--border-color-accent);padding-left:10px;margin:6px 0;font-size:.9em}
.status-line{font-size:.85em;opacity:.8}
footer{display:none !important}
.panel-title{margin:10px 0 6px 0;font-size:1em}
.fit-basis{font-size:.82em;opacity:.8;margin-bottom:6px}
.src details.src-group{border:none;padding:0;margin:0 0 8px 0}
.src summary.src-group-title{font-size:.85em;opacity:.8;margin-bottom:4px}
.src details.source.cited{border-color:var(--color-accent);box-shadow:0 0 0 2px var(--color-accent-soft)}
#chatbot a[href^="#src-a"]{display:inline-block;font-size:.78em;line-height:1.3;padding:0 5px;margin:0 1px;border-radius:6px;
  background:var(--background-fill-secondary);border:1px solid var(--border-color-primary);text-decoration:none;vertical-align:super}
#chatbot a[href^="#src-a"]:hover{border-color:var(--color-accent)}
.offscreen{position:absolute !important;left:-10000px !important;width:1px !important;height:1px !important;overflow:hidden !important}
.catalog-wrap{overflow-x:auto;max-height:560px;overflow-y:auto}
.catalog-hint{font-size:.85em;opacity:.75;margin-bottom:4px}
table.catalog{border-collapse:collapse;width:100%;font-size:.86em}
table.catalog th,table.catalog td{border:1px solid var(--border-color-primary);padding:4px 6px;vertical-align:top;text-align:left}
table.catalog thead th{position:sticky;top:0;background:var(--background-fill-secondary);z-index:1}
table.catalog th button.sort{all:unset;cursor:pointer;font-weight:600;white-space:nowrap}
table.catalog th .sort-mark::after{content:" ↕";opacity:.35}
table.catalog th[aria-sort=ascending] .sort-mark::after{content:" ▲";opacity:1}
table.catalog th[aria-sort=descending] .sort-mark::after{content:" ▼";opacity:1}
table.catalog tbody tr{cursor:pointer}
table.catalog tbody tr:hover,table.catalog tbody tr.picked{background:var(--background-fill-secondary)}
table.catalog td.col-name{font-weight:600}
.rec-cap{font-size:.88em;margin-bottom:2px}
.cmp-wrap{overflow-x:auto;-webkit-overflow-scrolling:touch;max-width:100%}
.cmp-wrap table{border-collapse:separate;border-spacing:0;border-top:1px solid var(--border-color-primary);border-left:1px solid var(--border-color-primary)}
.cmp-wrap th,.cmp-wrap td{border-width:0 1px 1px 0}
.cmp-wrap tr > th:first-child{background:var(--background-fill-secondary)}
.entry{scroll-margin-top:12px;border-radius:10px}
.entry[data-pick]{border:2px solid var(--color-accent);padding:10px 12px}
.entry.flash{animation:entry-flash 2.4s ease-out}
@keyframes entry-flash{0%{background:var(--color-accent-soft);box-shadow:0 0 0 6px var(--color-accent-soft)}100%{background:transparent;box-shadow:0 0 0 0 transparent}}
.entry h3:focus{outline:none}
#question-counter .counter{display:none;font-size:.82em;opacity:.8;margin:-4px 4px 0 4px}
#question-counter .counter.shown{display:block}
#question-counter .counter.at-limit{color:#a11d1d;opacity:1;font-weight:600}
.hw-help{font-size:.85em;opacity:.8}
.fitchart{font-size:13px;line-height:1.3;margin:6px 0 10px 0}
.fitchart .fc-title{font-weight:600;margin-bottom:4px}
.fitchart .fc-rule{font-size:12px;opacity:.85;margin:4px 0}
.fitchart .fc-legend{display:flex;flex-wrap:wrap;gap:4px 12px;margin:4px 0 8px 0;font-size:12px}
.fitchart .fc-legend i{display:inline-block;width:11px;height:11px;border-radius:2px;margin-right:4px;vertical-align:-1px}
.fitchart .fc-row{display:grid;grid-template-columns:minmax(120px,30%) 1fr;align-items:center;min-height:22px}
.fitchart .fc-label{padding-right:6px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;font-size:13px}
.fitchart .fc-track{position:relative;height:22px;border-left:1px solid var(--border-color-primary)}
.fitchart .fc-bar{position:absolute;left:0;top:4px;height:14px;border-radius:0 3px 3px 0;opacity:.9}
.fitchart .fc-val{position:absolute;top:3px;font-size:12px;white-space:nowrap;padding:0 4px}
.fitchart .fc-val.inside{transform:translateX(-100%);color:#fff}
.fitchart .fc-budget{position:absolute;top:0;bottom:0;border-left:2px dashed #1a4fb4}
.fitchart .fc-total{position:absolute;top:0;bottom:0;border-left:1px dotted #888}
.fitchart .fc-axis .fc-track{height:20px;border-left:none;border-top:1px solid var(--border-color-primary)}
.fitchart .fc-tick{position:absolute;top:2px;transform:translateX(-50%);font-size:11px;opacity:.8;white-space:nowrap}
.fitchart .fc-budget-label{color:#1a4fb4;font-size:12px;margin:2px 0 4px 0}
.fc-fits{background:#2e7d32}.fc-tight{background:#7cb342}.fc-os_limit{background:#f9a825}
.fc-partial_offload,.fc-expert_offload{background:#ef6c00}.fc-no_fit{background:#c62828}
@media (max-width: 768px){
  /* Chat: answer, then the question box, then the cards; examples and settings last. */
  #chat-row{flex-direction:column !important}
  #chat-main,#chat-side{display:contents !important}
  #chatbot{order:1} #ask-row{order:2} #question-counter{order:3} #status-row{order:4} #cards{order:5} #why-not{order:6}
  #sources{order:7} #examples-box{order:8} #settings{order:9}
  /* Catalog: one card per model with the key columns; the rest is in the entry below. */
  table.catalog thead tr{display:flex;flex-wrap:wrap;gap:4px}
  table.catalog thead th{position:static;border:1px solid var(--border-color-primary);border-radius:6px}
  table.catalog thead th:not(.narrow-keep){display:none}
  table.catalog,table.catalog tbody{display:block}
  table.catalog tbody tr{display:block;border:1px solid var(--border-color-primary);border-radius:8px;margin:6px 0;padding:6px 8px}
  table.catalog tbody td{display:block;border:none;padding:1px 0}
  table.catalog tbody td:not(.narrow-keep){display:none}
  table.catalog tbody td.narrow-keep:not(.col-name)::before{content:attr(data-label) "：";opacity:.7}
  .catalog-wrap{max-height:none}
  /* Compare: the table scrolls sideways inside its box; the row labels stay in view. */
  .cmp-wrap tr > th:first-child{position:sticky;left:0;z-index:1;width:26vw;min-width:26vw;max-width:28vw;white-space:normal;
    box-shadow:2px 0 3px rgba(0,0,0,.08)}
  /* Each model's column is as wide as the room beside the labels: a swipe shows one whole column. */
  .cmp-wrap td,.cmp-wrap tr > th:not(:first-child){min-width:calc(100vw - 28vw - 110px)}
  .cmp-wrap{scroll-snap-type:x proximity}
  .cmp-wrap td{scroll-snap-align:end}
  /* Tabs: every tab is a button in the bar (they wrap), none behind an overflow menu. */
  #tabs .tab-container button{padding:0 10px}
  .fc-row{grid-template-columns:minmax(92px,36%) 1fr}
}
"""

# Gradio's browser client shows a fixed English toast when the queue is full; say it in
# Traditional Chinese too.
HEAD = """
<meta name="referrer" content="no-referrer">
<script>
(() => {
  const EN = "This application is currently busy";
  const ZH = "忙碌中，請稍後再試。（The assistant is busy; please try again shortly.）";
  const fix = (node) => {
    const walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT);
    let n;
    while ((n = walker.nextNode())) { if (n.nodeValue && n.nodeValue.includes(EN)) n.nodeValue = ZH; }
  };
  const start = () => new MutationObserver((muts) => {
    for (const m of muts) {
      if (m.type === "characterData" && m.target.nodeValue && m.target.nodeValue.includes(EN)) m.target.nodeValue = ZH;
      for (const added of m.addedNodes) fix(added.nodeType === 3 ? added.parentNode || added : added);
    }
  }).observe(document.body, {childList: true, subtree: true, characterData: true});
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
</script>
"""

# After an answer: show its start (not the disclaimers at its end).
READ_FROM_START_JS = """
() => {
  const bots = document.querySelectorAll("#chatbot [data-testid='bot']");
  const last = bots[bots.length - 1];
  if (!last) return;
  let box = last.parentElement;
  while (box && box !== document.body) {
    const style = getComputedStyle(box);
    if (/(auto|scroll)/.test(style.overflowY) && box.scrollHeight > box.clientHeight) break;
    box = box.parentElement;
  }
  if (box && box !== document.body) {
    box.scrollTop += last.getBoundingClientRect().top - box.getBoundingClientRect().top - 8;
  }
  const top = last.getBoundingClientRect().top;
  if (top < 0 || top > window.innerHeight * 0.6) window.scrollBy(0, top - 8);
}
"""

# When the page loads: a wide screen gets the question box focused (without scrolling); a
# phone keeps the title and tabs in view (focusing there scrolls the page and opens the keyboard).
LOAD_JS = """
() => {
  if (window.matchMedia && window.matchMedia('(min-width: 769px)').matches) {
    const box = document.querySelector('#question textarea');
    if (box) box.focus({preventScroll: true});
  }
}
"""

# Runs once when the catalog component mounts: sort on header click, pick on row click.
CATALOG_JS = """
const sortBy = (th) => {
  const table = th.closest('table');
  const body = table.tBodies[0];
  const index = Array.from(th.parentNode.children).indexOf(th);
  const numeric = th.dataset.type === 'num';
  const dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
  table.querySelectorAll('th').forEach((h) => h.setAttribute('aria-sort', 'none'));
  th.setAttribute('aria-sort', dir);
  const key = (row) => { const v = row.children[index].dataset.sort; return numeric ? parseFloat(v) : v; };
  const rows = Array.from(body.rows);
  rows.sort((a, b) => { const x = key(a), y = key(b); const c = numeric ? x - y : String(x).localeCompare(String(y));
                        return dir === 'ascending' ? c : -c; });
  rows.forEach((r) => body.appendChild(r));
};
const pick = (row) => {
  element.querySelectorAll('tr.picked').forEach((r) => r.classList.remove('picked'));
  row.classList.add('picked');
  trigger('click', {model: row.dataset.model});
};
element.addEventListener('click', (event) => {
  const th = event.target.closest('th[data-key]');
  if (th) { sortBy(th); return; }
  const row = event.target.closest('tr[data-model]');
  if (row) pick(row);
});
element.addEventListener('keydown', (event) => {
  const row = event.target.closest && event.target.closest('tr[data-model]');
  if (row && (event.key === 'Enter' || event.key === ' ')) { event.preventDefault(); pick(row); }
});
"""

# The catalog entry, each time a row is picked: scroll to it (on a phone it is far below the
# table) and highlight it, then move the keyboard focus to its heading.
ENTRY_JS = """
const reveal = () => {
  const entry = element.querySelector('.entry[data-pick]');
  if (!entry || entry.dataset.pick === element.dataset.revealed) return;
  element.dataset.revealed = entry.dataset.pick;
  const still = window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  entry.scrollIntoView({block: 'start', behavior: still ? 'instant' : 'smooth'});
  entry.classList.remove('flash');
  void entry.offsetWidth;
  entry.classList.add('flash');
  const heading = entry.querySelector('h3');
  if (heading) heading.focus({preventScroll: true});
};
watch('value', reveal);
reveal();
"""

# The question's length: a counter from 80 % of the limit, and a sentence at the limit (the
# box's maxlength cuts longer text, so a paste that was cut says so).
COUNTER_JS = """
let cut = false;
const show = () => {
  const el = element.querySelector('.counter');
  const box = document.querySelector('#question textarea');
  if (!el || !box) return;
  const max = parseInt(el.dataset.max, 10) || 2000;
  const n = box.value.length;
  if (n < max) cut = false;
  if (n < max * 0.8) { el.textContent = ''; el.classList.remove('shown', 'at-limit'); return; }
  const fill = (s) => s.split('{n}').join(n.toLocaleString('en-US')).split('{max}').join(max.toLocaleString('en-US'));
  el.textContent = fill(el.dataset.count) + (n >= max ? ' ' + fill(cut ? el.dataset.cut : el.dataset.full) : '');
  el.classList.add('shown');
  el.classList.toggle('at-limit', n >= max);
};
document.addEventListener('input', (event) => {
  if (event.target.closest && event.target.closest('#question')) show();
}, true);
document.addEventListener('paste', (event) => {
  const box = event.target.closest && event.target.closest('#question textarea');
  const el = element.querySelector('.counter');
  if (!box || !el) return;
  const text = (event.clipboardData && event.clipboardData.getData('text')) || '';
  const kept = box.value.length - Math.abs((box.selectionEnd || 0) - (box.selectionStart || 0));
  if (kept + text.length > (parseInt(el.dataset.max, 10) || 2000)) cut = true;
  setTimeout(show, 0);
}, true);
// The box is emptied after a question is sent without an input event: look again now and then.
setInterval(() => { const el = element.querySelector('.counter.shown'); if (el) show(); }, 700);
watch('value', show);
"""

# Runs once when the sources panel mounts: a click on `[n]` in any answer opens that
# answer's passage n in the panel (Open WebUI's citation chips open the cited passage too).
CITATION_JS = """
if (!window.__citationsWired) {
  window.__citationsWired = true;
  document.addEventListener('click', (event) => {
    const link = event.target.closest && event.target.closest('a[href^="#src-a"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const id = link.getAttribute('href').slice(1);
    const target = document.getElementById(id);
    if (!target) return;
    const group = target.closest('details.src-group');
    if (group) group.open = true;
    target.open = true;
    document.querySelectorAll('#sources details.source.cited').forEach((d) => d.classList.remove('cited'));
    target.classList.add('cited');
    target.scrollIntoView({block: 'center', behavior: 'instant'});
  }, true);
}
"""
