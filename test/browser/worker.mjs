// Module worker: imports the built module like a page would and posts the conformance hashes back.
import * as segloss from '/build/segloss.js';
import { runCases } from '/test/vectors/cases.mjs';

runCases(segloss).then(
  (results) => postMessage({ results }),
  (e) => postMessage({ error: String((e && e.stack) || e) }),
);
