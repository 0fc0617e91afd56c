import { syncScaleBenchmark } from '/work/main/bench/sync-scale-bench.ts';
const r = await syncScaleBenchmark(1000);
console.log(JSON.stringify(r, null, 2));
