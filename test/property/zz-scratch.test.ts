import { it, beforeAll } from 'vitest';
import { functionNamed } from './functions.ts';
import { checkAllWays, loadInstances, type Instances } from './harness.ts';
let apis: Instances;
beforeAll(async () => { apis = await loadInstances(); });
const CASES = JSON.parse(process.env.CASES ?? '[]');
it('scratch', () => {
  for (const [name, c, layout] of CASES) {
    const p = functionNamed(name).problem(c);
    let out: unknown;
    try { out = checkAllWays(p, layout, apis); } catch (e) { out = `THREW ${(e as Error).stack}`; }
    console.log(name, '=>', out);
  }
});
