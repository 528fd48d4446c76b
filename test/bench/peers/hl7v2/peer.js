// Times an npm HL7 v2 parser on the messages bench_hl7v2 dumped.
// usage: node peer.js DUMP_FILE simple-hl7|hl7-standard [SECONDS] [RUNS]
// prints {"name":"…","median":msgs_per_s,"spread":pct}
'use strict';
const fs = require('fs');

const [, , dumpFile, which, secsArg, runsArg] = process.argv;
const secs = Number(secsArg || 2);
const runs = Number(runsArg || 7);
const buf = fs.readFileSync(dumpFile);
const msgs = [];
for (let off = 0; off < buf.length;) {
  const len = buf.readUInt32BE(off);
  msgs.push(buf.toString('utf8', off + 4, off + 4 + len));
  off += 4 + len;
}

let parse;
let name;
if (which === 'simple-hl7') {
  const hl7 = require('simple-hl7');
  const p = new hl7.Parser();
  parse = (m) => p.parse(m);
  name = 'simple-hl7 ' + require('simple-hl7/package.json').version + ' parse (node ' +
    process.versions.node.split('.')[0] + ')';
} else {
  const HL7 = require('hl7-standard');
  parse = (m) => { const h = new HL7(m); h.transform(); return h; };
  name = 'hl7-standard ' + require('hl7-standard/package.json').version + ' parse (node ' +
    process.versions.node.split('.')[0] + ')';
}

function pass() {
  let ok = 0;
  for (const m of msgs) {
    try { parse(m); ok++; } catch (e) { /* counted as not parsed */ }
  }
  return ok;
}

// CPU seconds of the process (JIT and GC threads included), as bench_hl7v2
// counts its own: on a shared machine wall time measures the neighbours.
const now = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
for (const end = now() + 0.5; now() < end;) pass();
const rates = [];
for (let r = 0; r < runs; r++) {
  const t0 = now();
  let n = 0;
  while (now() - t0 < secs) n += pass();
  rates.push(n / (now() - t0));
}
rates.sort((a, b) => a - b);
const median = runs % 2 ? rates[(runs - 1) / 2] : (rates[runs / 2 - 1] + rates[runs / 2]) / 2;
console.log(JSON.stringify({ name, median: Math.round(median),
  spread: Math.round(1000 * (rates[runs - 1] - rates[0]) / median) / 10 }));
