// The mayors' dashboard page: lists the node's tables and renders each one
// (HTML table with "<k" for suppressed cells, totals, a Chart.js bar chart,
// freshness warnings, a CSV link). All figures and labels come from
// ruta-dashboard's JSON endpoints; nothing is computed from raw data here.
'use strict';

(function () {
  const tablesBox = document.getElementById('tables');
  const statusBox = document.getElementById('status');
  const form = document.getElementById('filters');
  const charts = [];

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function showStatus(message) {
    statusBox.textContent = message;
    statusBox.hidden = !message;
  }

  function fillQuarters() {
    const year = new Date().getFullYear();
    for (const select of [document.getElementById('from'), document.getElementById('to')]) {
      for (let y = year - 2; y <= year; y++) {
        for (let q = 1; q <= 4; q++) {
          const value = y + 'Q' + q;
          select.appendChild(el('option', { value: value }, y + ' T' + q));
        }
      }
    }
    document.getElementById('from').value = year + 'Q1';
    document.getElementById('to').value = year + 'Q4';
  }

  function query() {
    const regions = Array.from(form.querySelectorAll('input[name=region]:checked'))
      .map((box) => box.value);
    const params = new URLSearchParams();
    params.set('regions', regions.join(','));
    params.set('from', document.getElementById('from').value);
    params.set('to', document.getElementById('to').value);
    return params.toString();
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: 'same-origin', cache: 'no-store' });
    if (response.status === 401) {
      window.location.assign('/login?expirada=1');
      throw new Error('Sesión expirada.');
    }
    let body;
    try {
      body = await response.json();
    } catch (e) {
      throw new Error('Respuesta no válida del servidor del tablero.');
    }
    if (!response.ok) throw new Error(body.error || ('Error ' + response.status));
    return body;
  }

  function renderTable(section, table, q) {
    const meta = el('p', { class: 'meta' },
      'Regiones: ' + (table.regions.join(', ') || '—') +
      '. Umbral de publicación: ' + table.threshold + ' casos.' +
      (table.columnDimension ? ' Columnas: ' + table.columnDimension + '.' : ''));
    section.appendChild(meta);
    for (const warning of table.warnings) {
      section.appendChild(el('p', { class: 'warning', role: 'status' }, warning));
    }
    const html = el('table', { class: 'data', 'data-table': table.name });
    const head = el('thead');
    const headRow = el('tr');
    table.header.forEach((h) => headRow.appendChild(el('th', { scope: 'col' }, h)));
    head.appendChild(headRow);
    html.appendChild(head);
    const body = el('tbody');
    for (const row of table.rows) {
      const tr = el('tr', row.total ? { class: 'total' } : {});
      row.cells.forEach((text, i) => {
        if (i < table.labelColumns) {
          tr.appendChild(el('th', { scope: 'row' }, text));
        } else {
          const classes = ['value'];
          if (text.startsWith('<')) classes.push('suppressed');
          if (table.header[i] === 'Total') classes.push('total-col');
          const td = el('td', { class: classes.join(' ') }, text);
          if (text.startsWith('<')) td.title = 'Cifra menor que el umbral: no se publica.';
          tr.appendChild(td);
        }
      });
      body.appendChild(tr);
    }
    html.appendChild(body);
    section.appendChild(html);

    const link = el('a', {
      class: 'csv',
      href: '/api/table/' + encodeURIComponent(table.name) + '.csv?' + q,
      download: table.name + '.csv',
    }, 'Descargar CSV');
    section.appendChild(el('p')).appendChild(link);

    if (table.chart.series.length > 0 && table.chart.labels.length > 0) {
      const box = el('div', { class: 'chart-box' });
      const canvas = el('canvas', { 'aria-label': 'Gráfico de barras: ' + table.name, role: 'img' });
      box.appendChild(canvas);
      section.appendChild(box);
      if (typeof Chart === 'undefined') {
        section.appendChild(el('p', { class: 'error' }, 'No se pudo cargar la biblioteca de gráficos.'));
      } else {
        charts.push(new Chart(canvas, {
          type: 'bar',
          data: {
            labels: table.chart.labels,
            datasets: table.chart.series.map((s) => ({ label: s.label, data: s.data })),
          },
          options: {
            animation: false,
            responsive: true,
            maintainAspectRatio: false,
            scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
            plugins: { subtitle: { display: true, text: 'Las celdas «<' + table.threshold + '» no se grafican.' } },
          },
        }));
      }
    }
  }

  async function load() {
    document.body.removeAttribute('data-ready');
    showStatus('');
    while (charts.length) charts.pop().destroy();
    tablesBox.replaceChildren();
    const q = query();
    if (!form.querySelector('input[name=region]:checked')) {
      showStatus('Seleccione al menos una región.');
      document.body.setAttribute('data-ready', '1');
      return;
    }
    try {
      const list = await getJson('/api/tables');
      if (list.tables.length === 0) showStatus('El nodo no publica ninguna tabla.');
      for (const info of list.tables) {
        const section = el('section', { class: 'table', 'data-name': info.name });
        section.appendChild(el('h2', {}, info.title || info.name));
        tablesBox.appendChild(section);
        try {
          const table = await getJson('/api/table/' + encodeURIComponent(info.name) + '?' + q);
          renderTable(section, table, q);
        } catch (e) {
          section.appendChild(el('p', { class: 'error', role: 'alert' }, e.message));
        }
      }
    } catch (e) {
      showStatus(e.message);
    }
    document.body.setAttribute('data-ready', '1');
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  fillQuarters();
  load();
})();
