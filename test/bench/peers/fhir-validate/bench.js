// Peer for test/bench/bench_fhir_validate.sh: the official FHIR R4 JSON
// schema (read in place) validated with ajv 8 on Node, doing the same work
// as bench_fhir_validate.c: parse + validate, and parse + validate +
// serialize, over the same documents.
//
// usage: node bench.js SCHEMA EXAMPLES_DIR SYNTHEA_DIR REPS MIN_SECONDS
// Prints one line per figure: "peer CORPUS WORK MB_PER_S SPREAD_PERCENT VALID/TOTAL",
// MB/s per second of CPU time (median of REPS runs).
'use strict';
const fs = require('fs');
const path = require('path');
const Ajv = require('ajv');

const [schemaPath, examplesDir, syntheaDir, repsArg, minArg] = process.argv.slice(2);
const reps = Number(repsArg || 5);
const minSeconds = Number(minArg || 0.5);

function loadSchema() {
  const schema = JSON.parse(fs.readFileSync(schemaPath, 'utf8'));
  // ajv's discriminator keyword takes only propertyName (it derives the
  // mapping from each branch's const), so drop the OpenAPI-style mapping;
  // add the same discriminator to ResourceList (contained, Bundle.entry).
  schema.discriminator = { propertyName: 'resourceType' };
  schema.definitions.ResourceList.discriminator = { propertyName: 'resourceType' };
  schema.definitions.ResourceList.type = 'object';
  schema.type = 'object';
  // draft-06 names the schema with "id"; ajv 8 reads "$id"
  schema.$id = schema.id;
  delete schema.id;
  delete schema.$schema;
  return schema;
}

function loadDocs() {
  const examples = fs.readdirSync(examplesDir).filter((f) => f.endsWith('.json')).sort()
    .map((f) => fs.readFileSync(path.join(examplesDir, f), 'utf8'));
  const synthea = [];
  for (const f of fs.readdirSync(syntheaDir).filter((x) => x.endsWith('.ndjson')).sort()) {
    for (const line of fs.readFileSync(path.join(syntheaDir, f), 'utf8').split('\n')) {
      if (line.trim() !== '') synthea.push(line);
    }
  }
  return { examples, synthea };
}

function bytes(docs) {
  return docs.reduce((n, d) => n + Buffer.byteLength(d, 'utf8'), 0);
}

function pass(validate, docs, serialize) {
  let valid = 0;
  let sink = 0;
  for (const d of docs) {
    const v = JSON.parse(d);
    if (validate(v)) valid++;
    if (serialize) sink += JSON.stringify(v).length;
  }
  return valid + (sink & 0);
}

// CPU time of the process (all its threads: JIT and GC included), so that
// other work on a shared machine does not count; ours is timed the same way.
function cpuSeconds() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function measure(validate, docs, serialize) {
  const total = bytes(docs);
  let loops = 1;
  // warm-up (JIT) and calibration: enough loops for minSeconds per run
  for (;;) {
    const t0 = cpuSeconds();
    for (let i = 0; i < loops; i++) pass(validate, docs, serialize);
    const s = cpuSeconds() - t0;
    if (s >= minSeconds) break;
    loops = Math.max(loops * 2, Math.ceil(loops * minSeconds / Math.max(s, 1e-3)));
  }
  const rates = [];
  for (let r = 0; r < reps; r++) {
    const t0 = cpuSeconds();
    for (let i = 0; i < loops; i++) pass(validate, docs, serialize);
    const s = cpuSeconds() - t0;
    rates.push(total * loops / 1e6 / s);
  }
  rates.sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  const spread = (rates[rates.length - 1] - rates[0]) / median * 100;
  return { median, spread };
}

function main() {
  const ajv = new Ajv({ strict: false, discriminator: true, allErrors: false });
  const t0 = Date.now();
  const validate = ajv.compile(loadSchema());
  process.stderr.write(`ajv ${require('ajv/package.json').version}: schema compiled in ${Date.now() - t0} ms\n`);
  const corpora = loadDocs();
  for (const [name, docs] of Object.entries(corpora)) {
    const valid = pass(validate, docs, false);
    for (const [work, ser] of [['validate', false], ['validate+serialize', true]]) {
      const m = measure(validate, docs, ser);
      console.log(`peer ${name} ${work} ${m.median.toFixed(1)} ${m.spread.toFixed(1)} ${valid}/${docs.length}`);
    }
  }
}

main();
