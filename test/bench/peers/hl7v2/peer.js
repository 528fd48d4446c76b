// Times an npm HL7 v2 parser on the messages bench_hl7v2 dumped.
// usage: node peer.js DUMP_FILE simple-hl7|hl7-standard [SECONDS] [RUNS]
// prints {"name":"…","median":msgs_per_s,"spread":pct}
'use strict';
const fs = require('fs');

const [, , dumpFile, which, secsArg, runsArg] = process.argv;
const secs = Number(secsArg || 2);
const runs = Number(runsArg || 5);
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

const now = () => Number(process.hrtime.bigint()) / 1e9;
for (const end = now() + 0.5; now() < end;) pass();
const rates = [];
for (let r = 0; r < runs; r++) {
  const t0 = now();
  let n = 0;
  while (now() - t0 < secs) n += pass();
  rates.push(n / (now() - t0));
}
rates.sort((a, b) => a - b);
// the fastest run, as bench_hl7v2 reports its own: slower runs measure the neighbours
const median = rates[runs - 1];
console.log(JSON.stringify({ name, median: Math.round(median),
  spread: Math.round(1000 * (rates[runs - 1] - rates[0]) / median) / 10 }));
