// A small line chart on a canvas: the consumer group's lag over time (no library needed).
'use strict';
window.LagChart = class LagChart {
  constructor(canvas, maxPoints = 120) {
    this.canvas = canvas;
    this.maxPoints = maxPoints;
    this.points = [];
  }
  add(at, value) {
    this.points.push({ at, value });
    if (this.points.length > this.maxPoints) this.points.shift();
    this.draw();
  }
  draw() {
    const c = this.canvas;
    const ratio = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== w * ratio) { c.width = w * ratio; c.height = h * ratio; }
    const g = c.getContext('2d');
    g.setTransform(ratio, 0, 0, ratio, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 56, r: 12, t: 12, b: 24 };
    const max = Math.max(1, ...this.points.map((p) => p.value));
    const first = this.points.length ? this.points[0].at : Date.now();
    const last = this.points.length ? this.points[this.points.length - 1].at : first + 1;
    const span = Math.max(1000, last - first);
    const x = (at) => pad.l + ((at - first) / span) * (w - pad.l - pad.r);
    const y = (v) => h - pad.b - (v / max) * (h - pad.t - pad.b);
    g.strokeStyle = '#e3e6ec'; g.fillStyle = '#6b7385'; g.font = '11px system-ui, sans-serif'; g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const v = (max * i) / 4;
      g.beginPath(); g.moveTo(pad.l, y(v)); g.lineTo(w - pad.r, y(v)); g.stroke();
      g.fillText(String(Math.round(v)), 6, y(v) + 4);
    }
    g.fillText(`${Math.round(span / 1000)} s`, w - pad.r - 30, h - 6);
    if (this.points.length === 0) return;
    g.strokeStyle = '#2f6fde'; g.lineWidth = 2; g.beginPath();
    this.points.forEach((p, i) => (i === 0 ? g.moveTo(x(p.at), y(p.value)) : g.lineTo(x(p.at), y(p.value))));
    g.stroke();
  }
};
