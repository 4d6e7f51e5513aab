// The "streaming roof" of a Dice forward + gradient call: Wasm SIMD passes that
// move exactly the bytes the loss has to move and do nothing else. Pass 1 reads
// P (f32) and G and sums them (the sum is returned, so the loads are not dead);
// pass 2 reads P and G again and writes out = p + g. A loss kernel cannot beat
// this, so its time divided by the roof's says how far it is from the memory
// (or load/store) limit.
//
// Loops take 8 elements per iteration as two v128 halves, with two independent
// accumulators in pass 1 so that the f32x4.add latency is hidden. Pointers are
// byte addresses in this module's own memory, 16-byte aligned; the last
// n mod 8 elements go through a scalar tail.
//
// u8 targets: G holds one byte per `1 << gShift` elements of P. gShift = 0 is a
// dense u8 target (one byte per element); gShift = 2 is a class-index target of
// a C = 4 softmax (one byte per pixel, P holds 4 floats per pixel). Each
// iteration loads 8 bytes at g + (i >> gShift) and widens them to two f32x4
// (load8x8_u → extend → convert, as a u8 kernel must); with gShift = 2
// consecutive loads overlap, which costs no memory traffic: G is still streamed
// exactly once per pass. Which byte is added to which lane does not matter to a
// roof. The 8-byte load may read up to 7 bytes past the end of G: the caller
// leaves that slack.

/** First 16-byte-aligned address above the static data: where the caller may place arrays. */
export function heapStart(): usize {
  return (__heap_base + 15) & ~15;
}

/** Horizontal sum of the four lanes. */
// @ts-ignore: decorator
@inline function lanesSum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1))
    + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}

/** Pass 1 with f32 targets: Σ (p + g) over n elements. */
export function sumF32(p: usize, g: usize, n: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    acc0 = f32x4.add(acc0, f32x4.add(v128.load(p + o), v128.load(g + o)));
    acc1 = f32x4.add(acc1, f32x4.add(v128.load(p + o, 16), v128.load(g + o, 16)));
  }
  let s = lanesSum(f32x4.add(acc0, acc1));
  for (; i < n; i++) s += load<f32>(p + (<usize>i << 2)) + load<f32>(g + (<usize>i << 2));
  return s;
}

/** Pass 2 with f32 targets: out = p + g over n elements. */
export function addF32(p: usize, g: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(v128.load(p + o), v128.load(g + o)));
    v128.store(out + o, f32x4.add(v128.load(p + o, 16), v128.load(g + o, 16)), 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(p + o) + load<f32>(g + o));
  }
}

/** Pass 1 with u8 targets (one byte per 1 << gShift elements of P): Σ (p + g) over n elements of P. */
export function sumU8(p: usize, g: usize, n: i32, gShift: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const g16 = v128.load8x8_u(g + (<usize>i >> gShift)); // 8 bytes → i16x8
    const g0 = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(g16));
    const g1 = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(g16));
    acc0 = f32x4.add(acc0, f32x4.add(v128.load(p + o), g0));
    acc1 = f32x4.add(acc1, f32x4.add(v128.load(p + o, 16), g1));
  }
  let s = lanesSum(f32x4.add(acc0, acc1));
  for (; i < n; i++) s += load<f32>(p + (<usize>i << 2)) + <f32>load<u8>(g + (<usize>i >> gShift));
  return s;
}

/** Pass 2 with u8 targets (one byte per 1 << gShift elements of P): out = p + g over n elements of P. */
export function addU8(p: usize, g: usize, out: usize, n: i32, gShift: i32): void {
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    const g16 = v128.load8x8_u(g + (<usize>i >> gShift));
    const g0 = f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(g16));
    const g1 = f32x4.convert_i32x4_s(i32x4.extend_high_i16x8_u(g16));
    v128.store(out + o, f32x4.add(v128.load(p + o), g0));
    v128.store(out + o, f32x4.add(v128.load(p + o, 16), g1), 16);
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(p + o) + <f32>load<u8>(g + (<usize>i >> gShift)));
  }
}
