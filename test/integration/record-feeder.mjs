// The recorder in a process of its own, for the power-cut test: feeds a TS
// file at its own rate through the splicer (as the stream unit does) into a
// StreamRecorder until killed. Built code (npm run build:ts): dist/.
// Usage: node record-feeder.mjs TS_FILE RECORDINGS_DIR BITS_PER_SECOND SEGMENT_SECONDS
import { readFileSync } from 'node:fs';
import { TsSplicer } from '../../dist/mux/index.js';
import { StreamRecorder } from '../../dist/record/index.js';

const [file, dir, bps, segmentSeconds] = process.argv.slice(2);
const data = readFileSync(file);
const rec = await StreamRecorder.open({
  dir,
  settings: { segmentSeconds: Number(segmentSeconds), maxBytes: 1 << 30, maxAgeMinutes: 600, minFreeBytes: 1 << 20 },
  probe: () => [{ connection: 0, connected: false, sentBytes: 0 }],
});
const splicer = new TsSplicer({ fill: false, onChunk: (c, info) => rec.write(c, info) });
splicer.start();
const start = Date.now();
let off = 0;
const timer = setInterval(() => {
  const due = Math.min(data.length, Math.floor(((Date.now() - start) / 1000) * (Number(bps) / 8)));
  while (off + 1316 <= due) {
    splicer.push(data.subarray(off, off + 1316));
    off += 1316;
  }
  if (off + 1316 > data.length) {
    clearInterval(timer);
    process.stdout.write('end of file\n');
  }
}, 10);
process.stdout.write('feeding\n');
