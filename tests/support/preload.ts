/**
 * Loaded before every test file (bunfig.toml): servers the tests start skip
 * the start-up JIT warm-up (`jit_warmup`, lib/server/jit_warmup.ts), which
 * costs about a second of CPU per server and would only slow the suite. The
 * tests of the warm-up itself turn it back on with `--jit-warmup N`.
 *
 * @module
 */
process.env.TCPCHAT_JIT_WARMUP ??= "0";
