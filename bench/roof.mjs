// Builds and loads the streaming-roof kernel (bench/roof.ts, see its header).
// The bench compiles it itself with asc, into bench/.out/ (git-ignored), when
// the .wasm is missing or older than its source.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const file = (rel) => fileURLToPath(new URL(rel, import.meta.url));
const SOURCE = file('./roof.ts');
const WASM = file('./.out/roof.wasm');
const WASM_PAGE = 65536;

/** Compiles bench/roof.ts with asc -O3 and SIMD if bench/.out/roof.wasm is stale. */
function buildRoof() {
  if (existsSync(WASM) && statSync(WASM).mtimeMs >= statSync(SOURCE).mtimeMs) return;
  mkdirSync(file('./.out/'), { recursive: true });
  execFileSync(file('../node_modules/.bin/asc'), [SOURCE, '-O3', '--runtime', 'stub', '--enable', 'simd', '-o', WASM], { stdio: 'inherit' });
}

/**
 * Builds if needed, then compiles and instantiates the roof module.
 * @returns { roof, instantiateMs } where `roof.prepare(...)` lays out one problem
 */
export async function loadRoof() {
  buildRoof();
  const bytes = readFileSync(WASM);
  const t0 = performance.now();
  const { instance } = await WebAssembly.instantiate(bytes, {});
  const instantiateMs = performance.now() - t0;
  return { roof: new Roof(instance.exports), instantiateMs };
}

class Roof {
  #k;
  constructor(exports) {
    this.#k = exports;
  }

  /**
   * Copies P (Float32Array) and G (Float32Array, or Uint8Array holding one
   * byte per `1 << gShift` elements of P) into the module's memory and returns
   * `run()`, one forward + gradient worth of streaming (pass 1 then pass 2).
   * One problem at a time: the next prepare() reuses the same memory.
   */
  prepare(p, g, gShift = 0) {
    const k = this.#k;
    const n = p.length;
    const align = (x) => (x + 15) & ~15;
    const pPtr = k.heapStart();
    const gPtr = align(pPtr + n * 4);
    const outPtr = align(gPtr + g.byteLength + 8); // + 8: slack for the u8 loop's 8-byte loads
    const end = outPtr + n * 4;
    const memory = k.memory;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / WASM_PAGE));
    new Float32Array(memory.buffer, pPtr, n).set(p);
    new g.constructor(memory.buffer, gPtr, g.length).set(g);
    if (g instanceof Float32Array) {
      return () => {
        const s = k.sumF32(pPtr, gPtr, n);
        k.addF32(pPtr, gPtr, outPtr, n);
        return s;
      };
    }
    return () => {
      const s = k.sumU8(pPtr, gPtr, n, gShift);
      k.addU8(pPtr, gPtr, outPtr, n, gShift);
      return s;
    };
  }
}
