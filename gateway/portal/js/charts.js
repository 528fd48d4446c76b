// charts.js — the portal's charts, drawn by Chart.js (vendor/chart.umd.min.js,
// installed from the npm registry with a lock file at build time).  This
// module only configures it: series per hospital in the hospital's colour,
// the reference range as a band, abnormal points as triangles.

import { fmtDate } from './i18n.js';

function lib() {
  if (!window.Chart) throw new Error('charting library not loaded');
  return window.Chart;
}

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export function memberColour(slot) {
  return cssVar(`--m${slot}`, '#1f5fa8');
}

const reduceMotion = () => window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches;

// The reference range as a shaded band behind the points (a Chart.js plugin
// local to this chart).
function rangeBand(range) {
  return {
    id: 'fhirgateRangeBand',
    beforeDatasetsDraw(chart) {
      if (!range || (range.low === null && range.high === null)) return;
      const { ctx, chartArea, scales } = chart;
      const y = scales.y;
      const top = range.high === null ? chartArea.top : Math.max(chartArea.top, y.getPixelForValue(range.high));
      const bottom = range.low === null ? chartArea.bottom : Math.min(chartArea.bottom, y.getPixelForValue(range.low));
      if (bottom <= top) return;
      ctx.save();
      ctx.fillStyle = cssVar('--range-band', 'rgba(46, 125, 50, 0.12)');
      ctx.fillRect(chartArea.left, top, chartArea.right - chartArea.left, bottom - top);
      ctx.strokeStyle = cssVar('--range-line', 'rgba(46, 125, 50, 0.6)');
      ctx.setLineDash([4, 4]);
      ctx.beginPath();
      for (const v of [range.low, range.high]) {
        if (v === null) continue;
        const py = y.getPixelForValue(v);
        if (py < chartArea.top || py > chartArea.bottom) continue;
        ctx.moveTo(chartArea.left, py);
        ctx.lineTo(chartArea.right, py);
      }
      ctx.stroke();
      ctx.restore();
    },
  };
}

// Tick positions on 1 January of each year (or the 1st of every third
// month for spans under two years), so the axis reads like a record.
function dateTicks(axis) {
  const { min, max } = axis;
  const years = (max - min) / (365.25 * 86400000);
  const step = years < 2 ? 3 : years < 8 ? 12 : 24;
  const d = new Date(min);
  d.setHours(0, 0, 0, 0);
  d.setDate(1);
  d.setMonth(Math.ceil(d.getMonth() / step) * step);
  const ticks = [];
  while (d.getTime() <= max && ticks.length < 40) {
    if (d.getTime() >= min) ticks.push({ value: d.getTime() });
    d.setMonth(d.getMonth() + step);
  }
  axis.ticks = ticks;
}

function tickLabel(v) {
  const d = new Date(v);
  return d.getMonth() === 0 ? String(d.getFullYear()) : fmtDate(d.toISOString()).slice(0, 7);
}

// series: [{name, slot, points: [{x: ms, y, flag, label, date}]}]; the
// trend across hospitals is a grey line through every result in time
// order, each hospital's results are points in its colour on top.
export function trendChart(canvas, { series, range, yLabel, allLabel }) {
  const Chart = lib();
  const abnormal = cssVar('--abnormal', '#b00020');
  const all = series.flatMap((s) => s.points).sort((a, b) => a.x - b.x);
  const datasets = [{
    label: allLabel,
    data: all,
    borderColor: cssVar('--trend', '#6b7785'),
    backgroundColor: cssVar('--trend', '#6b7785'),
    showLine: true,
    tension: 0,
    borderWidth: 2,
    pointRadius: 0,
    pointHitRadius: 0,
    pointStyle: 'line',
    order: 2,
  }];
  for (const s of series) {
    const colour = memberColour(s.slot);
    datasets.push({
      label: s.name,
      data: s.points,
      borderColor: (c) => (c.raw && c.raw.flag ? abnormal : colour),
      backgroundColor: colour,
      showLine: false,
      pointStyle: (c) => (c.raw && c.raw.flag ? 'triangle' : 'circle'),
      pointRadius: (c) => (c.raw && c.raw.flag ? 7 : 5),
      pointBorderWidth: (c) => (c.raw && c.raw.flag ? 2 : 1),
      order: 1,
    });
  }
  let minY = Infinity;
  let maxY = -Infinity;
  for (const p of all) { minY = Math.min(minY, p.y); maxY = Math.max(maxY, p.y); }
  if (range) {
    if (range.low !== null) minY = Math.min(minY, range.low);
    if (range.high !== null) maxY = Math.max(maxY, range.high);
  }
  const pad = (maxY - minY) * 0.1 || 1;
  const padX = all.length ? Math.max((all[all.length - 1].x - all[0].x) * 0.04, 15 * 86400000) : 0;
  return new Chart(canvas, {
    type: 'scatter',
    data: { datasets },
    plugins: [rangeBand(range)],
    options: {
      animation: reduceMotion() ? false : { duration: 300 },
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      scales: {
        x: {
          type: 'linear',
          min: all.length ? all[0].x - padX : undefined,
          max: all.length ? all[all.length - 1].x + padX : undefined,
          afterBuildTicks: dateTicks,
          ticks: { callback: tickLabel, maxRotation: 0 },
        },
        y: { title: { display: true, text: yLabel }, suggestedMin: minY - pad, suggestedMax: maxY + pad },
      },
      plugins: {
        legend: {
          position: 'bottom',
          labels: {
            usePointStyle: true,
            // Each hospital in its own colour as a plain dot (its points'
            // shapes carry the abnormal flag, not its identity); the trend
            // as a line.
            generateLabels: (chart) => Chart.defaults.plugins.legend.labels.generateLabels(chart).map((l) => {
              const ds = chart.data.datasets[l.datasetIndex];
              return { ...l, pointStyle: l.datasetIndex === 0 ? 'line' : 'circle', fillStyle: ds.backgroundColor, strokeStyle: ds.backgroundColor };
            }),
          },
        },
        tooltip: {
          filter: (c) => c.datasetIndex > 0,
          callbacks: {
            label: (c) => `${c.dataset.label}: ${c.raw.y}${c.raw.label ? ` (${c.raw.label})` : ''} · ${c.raw.date}`,
          },
        },
      },
    },
  });
}

// A bar chart: labels on x, one or more datasets {label, data, colour}.
export function barChart(canvas, { labels, datasets, stacked }) {
  const Chart = lib();
  return new Chart(canvas, {
    type: 'bar',
    data: {
      labels,
      datasets: datasets.map((d) => ({ label: d.label, data: d.data, backgroundColor: d.colour, borderColor: d.colour })),
    },
    options: {
      animation: reduceMotion() ? false : { duration: 300 },
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { stacked: Boolean(stacked), ticks: { maxRotation: 0, autoSkipPadding: 16 } }, y: { stacked: Boolean(stacked), beginAtZero: true, ticks: { precision: 0 } } },
      plugins: { legend: { position: 'bottom' } },
    },
  });
}
