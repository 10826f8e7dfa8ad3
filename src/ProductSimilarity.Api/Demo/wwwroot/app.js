// ProductSimilarity demo page: plain JavaScript, no framework, no network access beyond the API it is pointed at.
'use strict';

(() => {
  const PALETTE = ['#3056d3', '#d9822b', '#1f8a4c', '#c4323a', '#6f42c1', '#0e8a9a', '#b5338a', '#7a6a00',
    '#4c6ef5', '#e8590c', '#2b8a3e', '#862e9c', '#5c7cfa', '#a61e4d', '#087f5b', '#495057'];

  const state = {
    base: localStorage.getItem('psim.base') || '',
    key: localStorage.getItem('psim.key') || '',
    history: [],          // { id, title, event }
    excluded: [],         // { id, title }
    products: new Map(),  // id -> product view, from every response seen
    categoryColours: new Map(),
    selected: null,
    similarIds: [],
  };

  const $ = (id) => document.getElementById(id);

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') node.className = v;
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v);
    }
    for (const child of children.flat()) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }

  // ---- API ---------------------------------------------------------------------------------------------------------

  function apiUrl(path) {
    return state.base.replace(/\/+$/, '') + path;
  }

  async function api(path, options = {}) {
    const headers = { Accept: 'application/json', ...(options.headers || {}) };
    if (state.key) headers['x-functions-key'] = state.key;
    const response = await fetch(apiUrl(path), { ...options, headers });
    const text = await response.text();
    const body = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const detail = body && (body.detail || body.title || JSON.stringify(body.errors || body));
      throw new Error(`${response.status} ${detail || response.statusText}`);
    }
    return body;
  }

  function filterQuery() {
    const params = new URLSearchParams();
    const category = $('f-category').value;
    if (category) params.set('category', category);
    if ($('f-min').value) params.set('minPrice', $('f-min').value);
    if ($('f-max').value) params.set('maxPrice', $('f-max').value);
    if ($('f-stock').value) params.set('inStock', $('f-stock').value);
    if ($('f-mode').value) params.set('mode', $('f-mode').value);
    const attr = attributeFilter();
    if (attr) params.set(`attr.${attr.name}`, attr.value);
    if (!$('f-fallback').checked) params.set('fallback', 'false');
    if ($('f-mmr').checked) params.set('mmr', '0.7');
    if ($('f-dedupe').checked) params.set('dedupe', 'true');
    return params;
  }

  // "color=black" in the attribute box: one attribute filter (attr.color=black); anything else is ignored.
  function attributeFilter() {
    const text = $('f-attr').value.trim();
    const at = text.indexOf('=');
    if (at <= 0 || at === text.length - 1) return null;
    return { name: text.slice(0, at).trim(), value: text.slice(at + 1).trim() };
  }

  // The filters the fallback relaxed for this item, as a chip; nothing for an item that passes every filter.
  function relaxedChip(hit) {
    if (!hit.relaxed || hit.relaxed.length === 0) return null;
    return el('span', { class: 'chip relaxed', 'data-testid': 'relaxed', title: 'Fewer items passed the filters than asked: these were relaxed to fill the list' },
      `relaxed: ${hit.relaxed.join(', ')}`);
  }

  function filterBody() {
    const filters = {};
    if ($('f-category').value) filters.category = $('f-category').value;
    if ($('f-min').value) filters.minPrice = Number($('f-min').value);
    if ($('f-max').value) filters.maxPrice = Number($('f-max').value);
    if ($('f-stock').value) filters.inStock = $('f-stock').value === 'true';
    const attr = attributeFilter();
    if (attr) filters.attributes = { [attr.name]: attr.value };
    return filters;
  }

  function remember(product) {
    if (product && product.id) state.products.set(product.id, { ...(state.products.get(product.id) || {}), ...product });
    return product;
  }

  function setStatus(text, isError) {
    const status = $('status');
    status.textContent = text || '';
    status.classList.toggle('error', !!isError);
  }

  // ---- rendering helpers -------------------------------------------------------------------------------------------

  function colourOf(category) {
    const key = category || '(none)';
    if (!state.categoryColours.has(key)) {
      state.categoryColours.set(key, PALETTE[state.categoryColours.size % PALETTE.length]);
    }
    return state.categoryColours.get(key);
  }

  function formatPrice(p) {
    if (p.price === null || p.price === undefined) return '';
    return `${Number(p.price).toFixed(2)} ${p.currency || ''}`.trim();
  }

  function highlight(text, terms) {
    // Marks every occurrence of the shared terms (case-insensitive) in the text; the rest stays plain text.
    if (!terms || terms.length === 0) return [text];
    const escaped = [...terms].sort((a, b) => b.length - a.length).map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const pattern = new RegExp(`(${escaped.join('|')})`, 'giu');
    return text.split(pattern).map((part, i) => (i % 2 === 1 ? el('mark', {}, part) : part));
  }

  function productMeta(p) {
    return el('div', { class: 'meta info' },
      el('span', { class: 'dot', style: `background:${colourOf(p.category)}` }),
      [p.brand, p.category].filter(Boolean).join(' · '));
  }

  function priceLine(p) {
    return el('div', {},
      el('span', { class: 'price' }, formatPrice(p)),
      p.inStock === true ? el('span', { class: 'stock in' }, 'in stock') : null,
      p.inStock === false ? el('span', { class: 'stock out' }, 'out of stock') : null,
      el('span', { class: 'meta' }, `  ${p.id}`));
  }

  function actionButtons(p) {
    return el('div', { class: 'actions' },
      el('button', { type: 'button', 'data-action': 'similar', onclick: () => showSimilar(p.id) }, 'Similar'),
      el('button', { type: 'button', class: 'ev', 'data-action': 'view', onclick: () => addEvent(p, 'view') }, 'View'),
      el('button', { type: 'button', class: 'ev', 'data-action': 'cart', onclick: () => addEvent(p, 'cart') }, 'Cart'),
      el('button', { type: 'button', class: 'ev', 'data-action': 'purchase', onclick: () => addEvent(p, 'purchase') }, 'Buy'),
      el('button', { type: 'button', class: 'ev', 'data-action': 'exclude', onclick: () => addEvent(p, 'exclude') }, 'Not interested'));
  }

  function card(p, hit) {
    remember(p);
    return el('article', { class: `card${state.selected === p.id ? ' selected' : ''}`, 'data-id': p.id },
      el('div', { class: 'title', onclick: () => showSimilar(p.id) }, p.title),
      productMeta(p),
      priceLine(p),
      hit ? relaxedChip(hit) : null,
      actionButtons(p));
  }

  function bar(kind, label, value, fraction, rank) {
    const width = Math.max(0, Math.min(1, fraction || 0)) * 100;
    return el('div', { class: `bar ${kind}`, 'data-kind': kind },
      el('span', {}, label),
      el('span', { class: 'track' }, el('span', { class: 'fill', style: `width:${width.toFixed(1)}%;display:block` })),
      el('span', { class: 'value' }, value === null || value === undefined ? 'not found' : `${value.toFixed(3)}${rank ? ` #${rank}` : ''}`));
  }

  // ---- search ------------------------------------------------------------------------------------------------------

  async function search(text) {
    const q = (text ?? $('q').value).trim();
    if (!q) return;
    $('q').value = q;
    const params = filterQuery();
    params.set('q', q);
    params.set('top', '12');
    setStatus('Searching…');
    try {
      const result = await api(`/api/search?${params}`);
      const results = $('results');
      results.replaceChildren(...result.items.map((hit) => card(hit.product, hit)));
      if (result.items.length === 0) results.replaceChildren(el('div', { class: 'empty-state' }, 'No products match. Loosen the filters or try other words.'));
      setStatus(`${result.items.length} results for “${q}”`);
    } catch (error) {
      setStatus(`Search failed: ${error.message}`, true);
    }
  }

  // ---- similar items with explanations -----------------------------------------------------------------------------

  async function showSimilar(id) {
    state.selected = id;
    document.querySelectorAll('.card').forEach((c) => c.classList.toggle('selected', c.dataset.id === id));
    const params = filterQuery();
    params.set('top', '8');
    setStatus('Finding similar items…');
    try {
      const result = await api(`/api/products/${encodeURIComponent(id)}/similar?${params}`);
      const query = remember(result.query);
      const ids = result.items.map((h) => h.product.id);
      const explained = ids.length
        ? await api(`/api/products/${encodeURIComponent(id)}/explain?ids=${ids.map(encodeURIComponent).join(',')}`)
        : { items: [] };
      const byId = new Map(explained.items.map((e) => [e.id, e]));
      const maxKeyword = Math.max(0, ...result.items.map((h) => h.keywordScore || 0));
      const maxScore = Math.max(0, ...result.items.map((h) => h.score || 0));

      $('query-card').replaceChildren(el('div', { class: 'query', 'data-testid': 'query' },
        el('div', { class: 'meta' }, 'Products like'),
        el('div', { class: 'title' }, query.title),
        productMeta(query), priceLine(query), actionButtons(query)));

      const list = $('similar');
      list.replaceChildren(...result.items.map((hit, i) => {
        const p = remember(hit.product);
        const e = byId.get(p.id) || { sharedTerms: [], matchingAttributes: [] };
        return el('li', { 'data-id': p.id },
          el('div', { class: 'rank' }, i + 1),
          el('div', {},
            el('div', { class: 'title', onclick: () => showSimilar(p.id) }, highlight(p.title, e.sharedTerms)),
            productMeta(p), priceLine(p), relaxedChip(hit),
            el('div', { class: 'chips terms', 'data-testid': 'shared-terms' },
              e.sharedTerms.length ? e.sharedTerms.map((t) => el('span', { class: 'chip term' }, t)) : el('span', { class: 'meta' }, 'no shared terms')),
            el('div', { class: 'chips attrs', 'data-testid': 'matching-attributes' },
              e.modelCode ? el('span', { class: 'chip attr', 'data-testid': 'model-code', title: e.modelCode.reason }, `${e.modelCode.exact ? 'same model code' : 'near model code'}: ${e.modelCode.code}`) : null,
              e.matchingAttributes.map((a) => el('span', { class: 'chip attr' }, `${a.name}: ${a.value}`))),
            actionButtons(p)),
          el('div', { class: 'bars', 'data-testid': 'score-bars' },
            bar('fused', 'fused', hit.score, maxScore ? hit.score / maxScore : 0, null),
            bar('vector', 'vector', hit.vectorScore, hit.vectorScore, hit.vectorRank),
            bar('keyword', 'keyword', hit.keywordScore, maxKeyword ? (hit.keywordScore || 0) / maxKeyword : 0, hit.keywordRank)));
      }));
      if (result.items.length === 0) list.replaceChildren(el('li', { class: 'empty-state' }, 'Nothing similar passes the filters.'));
      $('detail').hidden = false;
      state.similarIds = ids;
      markMap();
      setStatus(`${result.items.length} items similar to ${query.id}`);
    } catch (error) {
      setStatus(`Similar items failed: ${error.message}`, true);
    }
  }

  // ---- shopper -----------------------------------------------------------------------------------------------------

  function addEvent(p, event) {
    remember(p);
    if (event === 'exclude') {
      if (!state.excluded.some((x) => x.id === p.id)) state.excluded.push({ id: p.id, title: p.title });
    } else {
      state.history.push({ id: p.id, title: p.title, event });
    }
    renderHistory();
    recommend();
  }

  function renderHistory() {
    const items = [
      ...state.history.map((h) => el('li', {}, el('span', { class: `ev-badge ev-${h.event}` }, h.event), el('span', { class: 'name' }, h.title))),
      ...state.excluded.map((x) => el('li', { class: 'excluded' }, el('span', { class: 'ev-badge ev-exclude' }, 'not interested'), el('span', { class: 'name' }, x.title))),
    ];
    $('history').replaceChildren(...(items.length ? items : [el('li', { class: 'empty' }, 'Nothing yet.')]));
  }

  let recommendation = 0;
  async function recommend() {
    const ticket = ++recommendation;
    const recs = $('recs');
    if (state.history.length === 0 && state.excluded.length === 0) {
      recs.replaceChildren(el('li', { class: 'empty' }, 'No history yet.'));
      return;
    }
    try {
      // "Not interested" travels as a negative event: the server hides it and pushes its near neighbours down.
      const body = {
        history: [
          ...state.history.map((h) => ({ id: h.id, event: h.event })),
          ...state.excluded.map((x) => ({ id: x.id, event: 'not_interested' })),
        ],
        top: 6,
        filters: filterBody(),
        explain: true,
      };
      const result = await api('/api/recommendations', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      if (ticket !== recommendation) return; // a newer click has already asked again
      recs.replaceChildren(...result.items.map((hit) => {
        const p = remember(hit.product);
        // Which history items drove it: the server's explanation (event weight × time decay × cosine, as shares).
        const parts = (hit.explanation && hit.explanation.contributingHistory) || [];
        const because = parts.slice(0, 2).map((c) => `${c.title} (${Math.round(100 * c.share)}%)`);
        return el('li', { 'data-id': p.id },
          el('div', { class: 'title', onclick: () => showSimilar(p.id) }, p.title),
          productMeta(p), priceLine(p),
          el('div', { class: 'because', 'data-testid': 'because' }, because.length ? `Because of: ${because.join(', ')}` : ''),
          actionButtons(p));
      }));
      if (result.fallback && result.fallback !== 'none' && result.items.length) {
        recs.prepend(el('li', { class: 'empty', 'data-testid': 'fallback' }, `Cold start: ${result.fallback.replace(',', ', then ')} items.`));
      }
      if (result.items.length === 0) {
        recs.replaceChildren(el('li', { class: 'empty' }, state.history.length ? 'Nothing left to recommend with these filters.' : 'Add a view, cart or purchase.'));
      }
    } catch (error) {
      if (ticket === recommendation) recs.replaceChildren(el('li', { class: 'empty' }, `Recommendations failed: ${error.message}`));
    }
  }

  // ---- catalog map -------------------------------------------------------------------------------------------------

  async function loadMap() {
    try {
      const map = await api('/api/map');
      const counts = new Map();
      for (const p of map.points) counts.set(p.category || '(none)', (counts.get(p.category || '(none)') || 0) + 1);
      const categories = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      categories.forEach(([c]) => colourOf(c === '(none)' ? null : c));

      const select = $('f-category');
      select.replaceChildren(el('option', { value: '' }, 'all'), ...categories.filter(([c]) => c !== '(none)').map(([c]) => el('option', { value: c }, c)));

      const width = 400, height = 300, pad = 12;
      const xs = map.points.map((p) => p.x), ys = map.points.map((p) => p.y);
      const minX = Math.min(...xs), maxX = Math.max(...xs), minY = Math.min(...ys), maxY = Math.max(...ys);
      const sx = (x) => pad + ((x - minX) / ((maxX - minX) || 1)) * (width - 2 * pad);
      const sy = (y) => height - pad - ((y - minY) / ((maxY - minY) || 1)) * (height - 2 * pad);
      const chart = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Catalog map: products projected to two dimensions' },
        map.points.map((p) => svg('circle', {
          cx: sx(p.x).toFixed(1), cy: sy(p.y).toFixed(1), r: 4, fill: colourOf(p.category), 'data-id': p.id,
          onclick: () => showSimilar(p.id),
        }, svg('title', {}, `${p.title}${p.category ? ` — ${p.category}` : ''}`))));
      $('map').replaceChildren(chart);
      $('legend').replaceChildren(...categories.map(([c, n]) => el('span', {}, el('span', { class: 'dot', style: `background:${colourOf(c === '(none)' ? null : c)}` }), `${c} (${n})`)));
      const variance = map.explainedVariance.map((v) => `${Math.round(v * 100)}%`).join(' + ');
      $('map-note').textContent = `${map.points.length} of ${map.total} products; the two main axes of the embeddings (PCA, ${variance} of the variance). `
        + 'Close points are products the model finds alike. Hover for the title, click for similar items.'
        + (map.truncated ? ' The catalog is larger than the map limit: only the first products are drawn.' : '');
      markMap();
    } catch (error) {
      $('map').replaceChildren(el('p', { class: 'status error' }, `Map failed: ${error.message}`));
    }
  }

  function markMap() {
    const similar = new Set(state.similarIds);
    document.querySelectorAll('#map circle').forEach((c) => {
      c.classList.toggle('selected', c.dataset.id === state.selected);
      c.classList.toggle('similar', similar.has(c.dataset.id));
      c.setAttribute('r', c.dataset.id === state.selected ? 7 : similar.has(c.dataset.id) ? 5.5 : 4);
    });
  }

  // ---- health and settings -----------------------------------------------------------------------------------------

  async function loadHealth() {
    const health = $('health');
    try {
      const response = await fetch(apiUrl('/api/health'), { headers: state.key ? { 'x-functions-key': state.key } : {} });
      const h = await response.json();
      const parts = [`${h.documents ?? '?'} products`, h.model, h.dimensions ? `${h.dimensions} dimensions` : null, h.quantization ? `quantisation ${h.quantization}` : null];
      if (h.lastIngestion && h.lastIngestion.status) parts.push(`last ingestion ${h.lastIngestion.status}`);
      health.textContent = `${h.status}: ${parts.filter(Boolean).join(' · ')}${h.error ? ` (${h.error})` : ''}`;
      health.className = `health ${h.status === 'healthy' ? 'ok' : 'bad'}`;
    } catch (error) {
      health.textContent = `Cannot reach ${state.base || 'this server'}: ${error.message}`;
      health.className = 'health bad';
    }
  }

  function connect() {
    $('base-url').value = state.base;
    $('function-key').value = state.key;
    // psim serve publishes /openapi.json; the Functions app publishes /api/openapi.json.
    $('openapi-link').href = state.base ? apiUrl('/api/openapi.json') : 'openapi.json';
    loadHealth();
    loadMap();
  }

  $('settings-toggle').addEventListener('click', () => { $('settings').hidden = !$('settings').hidden; });
  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    state.base = $('base-url').value.trim();
    state.key = $('function-key').value.trim();
    localStorage.setItem('psim.base', state.base);
    localStorage.setItem('psim.key', state.key);
    connect();
  });
  $('search-form').addEventListener('submit', (event) => { event.preventDefault(); search(); });
  document.querySelectorAll('#suggestions button').forEach((b) => b.addEventListener('click', () => search(b.textContent)));
  for (const id of ['f-category', 'f-min', 'f-max', 'f-stock', 'f-mode', 'f-attr', 'f-fallback', 'f-mmr', 'f-dedupe']) {
    $(id).addEventListener('change', () => {
      if ($('q').value.trim()) search();
      if (state.selected) showSimilar(state.selected);
      recommend();
    });
  }
  $('clear-history').addEventListener('click', () => { state.history = []; state.excluded = []; renderHistory(); recommend(); });

  renderHistory();
  connect();
})();
