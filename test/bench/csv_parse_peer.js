// Peer for bench_converters.sh: csv-parse (npm) over the same file.
// usage: node csv_parse_peer.js FILE NODE_PREFIX
const fs = require('fs');
const { parse } = require(process.argv[3] + '/node_modules/csv-parse');
const t0 = process.hrtime.bigint();
let n = 0;
fs.createReadStream(process.argv[2], { highWaterMark: 65536 })
  .pipe(parse({ relax_column_count: false }))
  .on('data', () => { n++; })
  .on('end', () => {
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    console.log(JSON.stringify({ count: n - 1, seconds: s, per_s: (n - 1) / s,
                                 max_rss_kb: Math.round(process.resourceUsage().maxRSS) }));
  })
  .on('error', (e) => { console.error('csv-parse: ' + e.message); process.exit(1); });
