// Acceptance: an unmodified Ethereum client library (viem) and compiler
// (solc-js), neither written by us, against a running node's JSON-RPC over
// HTTP and WebSocket. One line per check, `ok - name` or `FAIL - name:
// reason`, then `N passed, M failed`; exit status 1 if any check failed.
//   GONT_RPC       HTTP endpoint (default http://127.0.0.1:8545)
//   GONT_WS        WebSocket endpoint (default: GONT_RPC's host and port with
//                  ws://, as GONT serves both on one port)
//   GONT_MNEMONIC  the devnet's mnemonic (default the standard test one)
//   GONT_CHAIN_ID  if set, the chain id eth_chainId must answer
//   SOLC_EVM       the EVM version to compile for (default cancun)
// Sends only from dev accounts 1 and 2 (the web3.py client uses 3 and 4, the
// devnet's operators 10..19), so it can run beside the other clients on one
// chain. The debug_* checks expect geth's built-in tracers' output
// (https://geth.ethereum.org/docs/developers/evm-tracing/built-in-tracers).
import {
  ContractFunctionRevertedError, createPublicClient, createWalletClient, defineChain,
  encodeFunctionData, getAddress, getContractAddress, http, keccak256, parseEventLogs,
  toHex, webSocket,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { compileProbe } from "./compile.mjs";

const RPC = process.env.GONT_RPC ?? "http://127.0.0.1:8545";
const WS = process.env.GONT_WS ?? (() => {
  const u = new URL(RPC);
  u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
  return u.toString();
})();
const MNEMONIC = process.env.GONT_MNEMONIC ??
  "test test test test test test test test test test test junk";
/** What `Probe.store` reverts with above its limit. */
const REASON = "Probe: value over limit";

// ---------------------------------------------------------------- harness

let passed = 0, failed = 0;
/** A check that hangs is a failure, not a stuck run. */
const CHECK_TIMEOUT_MS = 120_000;
async function check(name, fn) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${CHECK_TIMEOUT_MS / 1000} s`)),
      CHECK_TIMEOUT_MS);
  });
  try { await Promise.race([fn(), timeout]); passed++; console.log(`ok - ${name}`); }
  catch (e) { failed++; console.log(`FAIL - ${name}: ${oneLine(e)}`); }
  finally { clearTimeout(timer); }
}
/** viem's errors carry a `shortMessage`; keep one line of it. */
const oneLine = (e) => String(e?.shortMessage ?? e?.message ?? e).replace(/\s+/g, " ").slice(0, 300);
const show = (v) => JSON.stringify(v, (_, x) => (typeof x === "bigint" ? `${x}n` : x));
function assert(cond, msg) { if (!cond) throw new Error(msg); }
function eq(actual, expected, what) {
  if (actual !== expected) throw new Error(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}
const lower = (a) => (typeof a === "string" ? a.toLowerCase() : a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** Polls `fn` until it returns something truthy. */
async function until(what, fn, ms = 30_000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`${what} not seen within ${ms / 1000} s`);
    await sleep(250);
  }
}
/** The reason of a viem contract error whose cause is a revert. */
function revertReason(e) {
  const r = e?.walk?.((x) => x instanceof ContractFunctionRevertedError);
  return r?.reason;
}

// ------------------------------------------------------------------ setup

const { abi, bytecode, deployedBytecode } = compileProbe();

// The chain id is needed to sign; a node that does not answer is one failure.
let chainId;
try {
  chainId = await createPublicClient({ transport: http(RPC) }).getChainId();
} catch (e) {
  console.log(`FAIL - the node answers at ${RPC}: ${oneLine(e)}`);
  console.log("0 passed, 1 failed");
  process.exit(1);
}
const chain = defineChain({
  id: chainId, name: `GONT chain ${chainId}`,
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [RPC], webSocket: [WS] } },
});
const pub = createPublicClient({ chain, transport: http(RPC), pollingInterval: 250 });
const a1 = mnemonicToAccount(MNEMONIC, { addressIndex: 1 });
const a2 = mnemonicToAccount(MNEMONIC, { addressIndex: 2 });
// viem reads the nonce with eth_getTransactionCount(…, "pending").
const w1 = createWalletClient({ account: a1, chain, transport: http(RPC) });
const w2 = createWalletClient({ account: a2, chain, transport: http(RPC) });
const mined = (hash) => pub.waitForTransactionReceipt({ hash, timeout: 60_000, pollingInterval: 250 });

// Filled in by the checks that create them; later checks fail cleanly without.
let probe, other, bump, bumpRc;
const need = (v, what) => { assert(v, `no ${what} (an earlier check failed)`); return v; };

// ------------------------------------------------------- 1. chain, blocks

await check("eth_chainId answers the chain id net_version names", async () => {
  const id = await pub.getChainId();
  assert(Number.isInteger(id) && id > 0, `chain id ${id}`);
  eq(String(id), await pub.request({ method: "net_version" }), "net_version");
  if (process.env.GONT_CHAIN_ID) eq(id, Number(process.env.GONT_CHAIN_ID), "GONT_CHAIN_ID");
});

await check("eth_blockNumber advances", async () => {
  const n0 = await pub.getBlockNumber({ cacheTime: 0 });
  await until(`a block after #${n0}`, async () => (await pub.getBlockNumber({ cacheTime: 0 })) > n0);
});

await check("eth_getBlockByNumber latest: linked to its parent, found by hash", async () => {
  const b = await pub.getBlock();
  assert(/^0x[0-9a-f]{64}$/.test(b.hash), `hash ${b.hash}`);
  assert(b.number > 0n && b.gasLimit > 0n && typeof b.baseFeePerGas === "bigint", `header ${show(b)}`);
  assert(Array.isArray(b.transactions), "transactions is a list");
  const parent = await pub.getBlock({ blockNumber: b.number - 1n });
  eq(b.parentHash, parent.hash, "parentHash");
  assert(b.timestamp >= parent.timestamp, "timestamps do not go back");
  eq((await pub.getBlock({ blockHash: b.hash })).number, b.number, "block by hash");
});

// ------------------------------------------------------------ 2. contract

await check("deploy Probe (and a second one) from account 1; receipt; code stored", async () => {
  const hash = await w1.deployContract({ abi, bytecode, args: [7n] });
  const rc = await mined(hash);
  eq(rc.status, "success", "status");
  eq(lower(rc.from), lower(a1.address), "receipt from");
  const tx = await pub.getTransaction({ hash });
  eq(getAddress(rc.contractAddress), getContractAddress({ from: a1.address, nonce: BigInt(tx.nonce) }),
    "contractAddress is CREATE(sender, nonce)");
  eq(await pub.getCode({ address: rc.contractAddress }), deployedBytecode, "eth_getCode");
  probe = getAddress(rc.contractAddress);
  // The target of `relay`, whose nested call reverts (checks 4 and 10).
  const rc2 = await mined(await w1.deployContract({ abi, bytecode, args: [0n] }));
  eq(rc2.status, "success", "second deploy status");
  other = getAddress(rc2.contractAddress);
});

// ------------------------------------------------ 3. calls, txs, events

await check("eth_call of views: count, countPlus, LIMIT", async () => {
  const address = need(probe, "contract");
  eq(await pub.readContract({ address, abi, functionName: "count" }), 7n, "count");
  eq(await pub.readContract({ address, abi, functionName: "countPlus", args: [5n] }), 12n, "countPlus(5)");
  eq(await pub.readContract({ address, abi, functionName: "LIMIT" }), 100n, "LIMIT");
});

await check("bump(42): mined, state changed, Bumped in the receipt's logs", async () => {
  const address = need(probe, "contract");
  bump = await w1.writeContract({ address, abi, functionName: "bump", args: [42n] });
  const rc = await mined(bump);
  eq(rc.status, "success", "status");
  const events = parseEventLogs({ abi, logs: rc.logs, eventName: "Bumped" });
  eq(events.length, 1, "Bumped events in the receipt");
  const ev = events[0];
  eq(getAddress(ev.address), address, "log address");
  eq(getAddress(ev.args.by), a1.address, "by");
  eq(ev.args.count, 8n, "count");
  eq(ev.args.value, 42n, "value");
  eq(await pub.readContract({ address, abi, functionName: "count" }), 8n, "count after");
  eq(await pub.readContract({ address, abi, functionName: "lastValue", args: [a1.address] }), 42n, "lastValue");
  bumpRc = rc;
});

await check("eth_getLogs finds the event by address and indexed topic", async () => {
  const rc = need(bumpRc, "bump receipt");
  const range = { fromBlock: rc.blockNumber, toBlock: rc.blockNumber };
  const logs = await pub.getContractEvents({ address: probe, abi, eventName: "Bumped", args: { by: a1.address }, ...range });
  eq(logs.length, 1, "logs for by = account 1");
  eq(logs[0].transactionHash, bump, "transactionHash");
  eq(logs[0].args.value, 42n, "value");
  eq(logs[0].logIndex, rc.logs[0].logIndex, "logIndex as in the receipt");
  // The topic filter really filters: nothing was bumped by account 2.
  const none = await pub.getContractEvents({ address: probe, abi, eventName: "Bumped", args: { by: a2.address }, ...range });
  eq(none.length, 0, "logs for by = account 2");
});

await check("eth_newFilter: getFilterChanges and getFilterLogs see a later event", async () => {
  const address = need(probe, "contract");
  // An explicit fromBlock: without one, eth_getFilterLogs looks at the
  // latest block when it is called (geth and reth do the same), which with
  // short blocks is already past the event's.
  const fromBlock = await pub.getBlockNumber();
  const filter = await pub.createContractEventFilter({ address, abi, eventName: "Bumped", fromBlock });
  const hash = await w1.writeContract({ address, abi, functionName: "bump", args: [43n] });
  eq((await mined(hash)).status, "success", "status");
  const seen = [];
  await until("the event in eth_getFilterChanges", async () => {
    seen.push(...(await pub.getFilterChanges({ filter })));
    return seen.some((l) => l.transactionHash === hash);
  });
  const ev = seen.find((l) => l.transactionHash === hash);
  eq(ev.args.value, 43n, "value from the filter");
  const all = await pub.getFilterLogs({ filter });
  assert(all.some((l) => l.transactionHash === hash), "eth_getFilterLogs has the event");
  eq(await pub.uninstallFilter({ filter }), true, "eth_uninstallFilter");
});

// ---------------------------------------------------------------- 4. revert

await check("revert reason from eth_estimateGas and eth_call", async () => {
  const address = need(probe, "contract");
  const gas = await pub.estimateContractGas({ address, abi, functionName: "store", args: [5n], account: a1 });
  assert(gas > 21000n, `store(5) estimates ${gas}`);
  const call = { address, abi, functionName: "store", args: [1000n], account: a1 };
  let e1 = null; try { await pub.estimateContractGas(call); } catch (e) { e1 = e; }
  assert(e1, "eth_estimateGas of store(1000) did not fail");
  eq(revertReason(e1), REASON, "eth_estimateGas revert reason");
  let e2 = null; try { await pub.simulateContract(call); } catch (e) { e2 = e; }
  assert(e2, "eth_call of store(1000) did not fail");
  eq(revertReason(e2), REASON, "eth_call revert reason");
});

// ------------------------------------------------------------- 5. fees

await check("eth_feeHistory: shape, and values as the blocks have them", async () => {
  const rc = need(bumpRc, "bump receipt");
  const n = rc.blockNumber;
  assert(n >= 3n, `block ${n} too low for 4 blocks of history`);
  const fh = await pub.getFeeHistory({ blockCount: 4, blockNumber: n, rewardPercentiles: [0, 50, 100] });
  eq(fh.oldestBlock, n - 3n, "oldestBlock");
  eq(fh.baseFeePerGas.length, 5, "baseFeePerGas entries (blocks + the next)");
  eq(fh.gasUsedRatio.length, 4, "gasUsedRatio entries");
  eq(fh.reward?.length, 4, "reward entries");
  for (let i = 0; i < 4; i++) {
    const b = await pub.getBlock({ blockNumber: n - 3n + BigInt(i) });
    eq(fh.baseFeePerGas[i], b.baseFeePerGas, `baseFeePerGas[${i}]`);
    const ratio = Number(b.gasUsed) / Number(b.gasLimit);
    assert(Math.abs(fh.gasUsedRatio[i] - ratio) < 1e-9, `gasUsedRatio[${i}] ${fh.gasUsedRatio[i]}, block has ${ratio}`);
    eq(fh.reward[i].length, 3, `reward[${i}] percentiles`);
    assert(fh.reward[i][0] <= fh.reward[i][1] && fh.reward[i][1] <= fh.reward[i][2], `reward[${i}] ordered`);
  }
  // The last base fee is the one of the block after the newest asked for.
  await until(`block ${n + 1n}`, async () => (await pub.getBlockNumber({ cacheTime: 0 })) > n);
  const next = await pub.getBlock({ blockNumber: n + 1n });
  eq(fh.baseFeePerGas[4], next.baseFeePerGas, "baseFeePerGas[4] = block n+1's");
  // Our bump's tip lies between the block's 0th and 100th percentile.
  const tip = rc.effectiveGasPrice - fh.baseFeePerGas[3];
  assert(fh.reward[3][0] <= tip && tip <= fh.reward[3][2], `tip ${tip} outside ${show(fh.reward[3])}`);
});

await check("eth_gasPrice = a current base fee + eth_maxPriorityFeePerGas", async () => {
  const head = await pub.getBlock();
  const gp = await pub.getGasPrice();
  const tip = await pub.estimateMaxPriorityFeePerGas();
  assert(gp > 0n && gp >= tip, `gasPrice ${gp}, tip ${tip}`);
  // The base fee moves at most 1/8 a block; allow for a block between calls.
  const base = gp - tip, b = head.baseFeePerGas;
  assert(base >= (b * 7n) / 8n && base <= (b * 9n) / 8n + 1n, `gasPrice - tip = ${base}, head base fee ${b}`);
});

// ---------------------------------------------------- 6. block receipts

await check("eth_getBlockReceipts of the bump's block holds its receipt", async () => {
  const rc = need(bumpRc, "bump receipt");
  const rcs = await pub.getBlockReceipts({ blockNumber: rc.blockNumber });
  const block = await pub.getBlock({ blockNumber: rc.blockNumber });
  eq(rcs.length, block.transactions.length, "one receipt per transaction");
  rcs.forEach((r, i) => {
    eq(r.transactionIndex, i, `receipt ${i} index`);
    eq(r.transactionHash, block.transactions[i], `receipt ${i} hash`);
    eq(r.blockHash, block.hash, `receipt ${i} blockHash`);
  });
  const mine = rcs.find((r) => r.transactionHash === bump);
  assert(mine, "our receipt is there");
  eq(mine.gasUsed, rc.gasUsed, "gasUsed");
  eq(mine.status, "success", "status");
  eq(mine.logs.length, 1, "logs");
  eq(mine.logs[0].data, rc.logs[0].data, "log data");
});

// ------------------------------------------------------------- 7. txpool

/** geth's txpool_content shape: {pending, queued} of checksummed sender ->
 *  decimal nonce -> transaction. */
function assertPoolShape(content) {
  for (const side of ["pending", "queued"]) {
    const bySender = content?.[side];
    assert(bySender && typeof bySender === "object" && !Array.isArray(bySender), `${side} is an object`);
    for (const [sender, byNonce] of Object.entries(bySender)) {
      eq(sender, getAddress(sender), `${side} key is a checksummed address`);
      for (const [nonce, tx] of Object.entries(byNonce)) {
        assert(/^\d+$/.test(nonce), `${side} ${sender} nonce key ${nonce} is decimal`);
        eq(BigInt(tx.nonce), BigInt(nonce), `${side} ${sender}/${nonce} nonce`);
        eq(lower(tx.from), lower(sender), `${side} ${sender}/${nonce} from`);
        assert(/^0x[0-9a-f]{64}$/.test(tx.hash), `${side} ${sender}/${nonce} hash`);
      }
    }
  }
}

await check("txpool_content/status/inspect show a queued tx (account 2, nonce gap), then drain", async () => {
  const n = await pub.getTransactionCount({ address: a2.address, blockTag: "pending" });
  const send = { to: a1.address, value: 1n, gas: 21000n };
  // Skip nonce n: the transaction waits in `queued` until n arrives.
  const gapped = await w2.sendTransaction({ ...send, nonce: n + 1 });
  const content = await pub.request({ method: "txpool_content" });
  assertPoolShape(content);
  const q = content.queued[a2.address]?.[String(n + 1)];
  assert(q, `queued[${a2.address}][${n + 1}] missing: ${show(content.queued)}`);
  eq(q.hash, gapped, "queued transaction hash");
  assert(!content.pending[a2.address]?.[String(n + 1)], "the gapped transaction is not pending");
  const status = await pub.request({ method: "txpool_status" });
  assert(/^0x[0-9a-f]+$/.test(status.pending) && /^0x[0-9a-f]+$/.test(status.queued), `status ${show(status)}`);
  assert(BigInt(status.queued) >= 1n, `status.queued ${status.queued}`);
  const inspect = await pub.request({ method: "txpool_inspect" });
  const line = inspect.queued?.[a2.address]?.[String(n + 1)];
  assert(new RegExp(`^${a1.address}: 1 wei \\+ 21000 gas × \\d+ wei$`).test(line ?? ""), `inspect line ${show(line)}`);
  // Fill the gap: both are mined, and the pool forgets them.
  const filler = await w2.sendTransaction({ ...send, nonce: n });
  eq((await mined(filler)).status, "success", "filler status");
  eq((await mined(gapped)).status, "success", "gapped status");
  const after = await pub.request({ method: "txpool_content" });
  assertPoolShape(after);
  assert(!after.queued[a2.address]?.[String(n + 1)] && !after.pending[a2.address]?.[String(n + 1)],
    "the mined transaction is still in the pool");
});

// ------------------------------------------------------- 8. small methods

await check("eth_getTransactionByBlockNumberAndIndex finds the bump", async () => {
  const rc = need(bumpRc, "bump receipt");
  const tx = await pub.getTransaction({ blockNumber: rc.blockNumber, index: rc.transactionIndex });
  eq(tx.hash, bump, "hash");
  eq(lower(tx.from), lower(a1.address), "from");
  eq(tx.input, encodeFunctionData({ abi, functionName: "bump", args: [42n] }), "input");
  eq(tx.transactionIndex, rc.transactionIndex, "transactionIndex");
  const none = await pub.request({ method: "eth_getTransactionByBlockNumberAndIndex",
    params: [toHex(rc.blockNumber), toHex(10_000)] });
  eq(none, null, "an index past the end");
});

await check("eth_getHeaderByNumber is the block's header", async () => {
  const rc = need(bumpRc, "bump receipt");
  const h = await pub.request({ method: "eth_getHeaderByNumber", params: [toHex(rc.blockNumber)] });
  const b = await pub.request({ method: "eth_getBlockByNumber", params: [toHex(rc.blockNumber), false] });
  for (const k of ["hash", "number", "parentHash", "stateRoot", "receiptsRoot", "transactionsRoot", "baseFeePerGas", "gasUsed", "timestamp"]) {
    eq(h?.[k], b[k], k);
  }
  assert(!("transactions" in h), "a header has no transactions");
});

await check("web3_sha3 is keccak-256", async () => {
  const hello = toHex("hello");
  eq(await pub.request({ method: "web3_sha3", params: [hello] }), keccak256(hello), "keccak('hello')");
  eq(await pub.request({ method: "web3_sha3", params: ["0x"] }),
    "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", "keccak('')");
});

await check("net_peerCount > 0 (a multi-node devnet)", async () => {
  const peers = await pub.request({ method: "net_peerCount" });
  assert(/^0x[0-9a-f]+$/.test(peers), `net_peerCount ${show(peers)} is not a quantity`);
  assert(BigInt(peers) > 0n, `net_peerCount ${peers}`);
});

await check("eth_accounts is empty (the node holds no keys)", async () => {
  // A wallet client without a local account asks the node (eth_accounts).
  const accounts = await createWalletClient({ chain, transport: http(RPC) }).getAddresses();
  eq(show(accounts), "[]", "eth_accounts");
});

// ---------------------------------------------------------- 9. WebSocket

const wsClient = createPublicClient({ chain, transport: webSocket(WS, { timeout: 20_000 }) });

await check("WebSocket eth_subscribe answers a hex-string subscription id, as geth", async () => {
  // geth's ids are "0x" and 32 hex digits; viem only routes notifications
  // to a subscription whose id is a string, so the checks below depend on it.
  const id = await wsClient.request({ method: "eth_subscribe", params: ["newHeads"] });
  const unsubscribed = await wsClient.request({ method: "eth_unsubscribe", params: [id] });
  assert(typeof id === "string" && /^0x[0-9a-f]+$/.test(id), `subscription id ${show(id)} (${typeof id})`);
  eq(unsubscribed, true, "eth_unsubscribe");
});

await check("WebSocket eth_subscribe newHeads: two heads, in order", async () => {
  const blocks = [];
  let failure = null;
  // poll: false makes viem subscribe (eth_subscribe "newHeads") instead of polling.
  const unwatch = wsClient.watchBlocks({ poll: false, onBlock: (b) => blocks.push(b), onError: (e) => { failure = e; } });
  try {
    await until("two newHeads", async () => { if (failure) throw failure; return blocks.length >= 2; });
  } finally { unwatch(); }
  const [b1, b2] = blocks;
  assert(b1 && b2, `heads ${show(blocks.map((b) => b?.number))}`);
  assert(b2.number > b1.number, `head numbers ${b1.number}, ${b2.number}`);
  if (b2.number === b1.number + 1n) eq(b2.parentHash, b1.hash, "second head's parentHash");
});

await check("WebSocket eth_subscribe newPendingTransactions: our HTTP-sent tx's hash arrives", async () => {
  const hashes = [];
  let failure = null;
  // The transport's subscribe resolves once the node has answered with a
  // subscription id, so the transaction below cannot race the subscription.
  const sub = await wsClient.transport.subscribe({
    params: ["newPendingTransactions"],
    onData: (d) => hashes.push(d.result),
    onError: (e) => { failure = e; },
  });
  try {
    const hash = await w1.sendTransaction({ to: a2.address, value: 1n });
    await until(`${hash} on the subscription`, async () => { if (failure) throw failure; return hashes.includes(hash); });
    eq((await mined(hash)).status, "success", "status");
  } finally { await sub.unsubscribe().catch(() => {}); }
});

// ------------------------------------------------------------ 10. tracing

let relayTx, relayRc;
await check("a tx whose nested call reverts is mined with status 0 (explicit gas)", async () => {
  need(other, "second contract");
  // An explicit gas limit skips eth_estimateGas, which would refuse it.
  relayTx = await w1.writeContract({ address: probe, abi, functionName: "relay", args: [other, 1000n], gas: 300_000n });
  relayRc = await mined(relayTx);
  eq(relayRc.status, "reverted", "status");
  eq(await pub.readContract({ address: probe, abi, functionName: "relayed" }), 0n, "relayed rolled back");
});

/** One geth callTracer frame: type, from, to, input, gas and gasUsed. */
function assertFrame(f, { from, to, input }, where) {
  assert(f && typeof f === "object", `${where}: no frame, got ${show(f)}`);
  eq(f.type, "CALL", `${where} type`);
  eq(lower(f.from), lower(from), `${where} from`);
  eq(lower(f.to), lower(to), `${where} to`);
  eq(f.input, input, `${where} input`);
  assert(/^0x[0-9a-f]+$/.test(f.gas) && /^0x[0-9a-f]+$/.test(f.gasUsed), `${where} gas ${f.gas}, gasUsed ${f.gasUsed}`);
  assert(BigInt(f.gasUsed) > 0n && BigInt(f.gasUsed) <= BigInt(f.gas), `${where} gasUsed ${f.gasUsed} of gas ${f.gas}`);
}

await check("debug_traceTransaction callTracer: failed nested call with its revertReason", async () => {
  const hash = need(relayTx, "relay transaction");
  const t = await pub.request({ method: "debug_traceTransaction", params: [hash, { tracer: "callTracer" }] });
  assertFrame(t, { from: a1.address, to: probe, input: encodeFunctionData({ abi, functionName: "relay", args: [other, 1000n] }) }, "top frame");
  assert(BigInt(t.gas) <= 300_000n, `top frame gas ${t.gas} above the tx's limit`);
  eq(BigInt(t.gasUsed), relayRc.gasUsed, "top frame gasUsed = receipt gasUsed");
  eq(t.error, "execution reverted", "top frame error");
  eq(t.revertReason, REASON, "top frame revertReason");
  eq(t.calls?.length, 1, "nested calls");
  const c = t.calls[0];
  assertFrame(c, { from: probe, to: other, input: encodeFunctionData({ abi, functionName: "store", args: [1000n] }) }, "calls[0]");
  eq(c.error, "execution reverted", "calls[0] error");
  eq(c.revertReason, REASON, "calls[0] revertReason");
});

await check("debug_traceTransaction prestateTracer: sender and contract before the tx", async () => {
  const address = need(probe, "contract");
  const hash = await w1.writeContract({ address, abi, functionName: "bump", args: [44n] });
  const rc = await mined(hash);
  eq(rc.status, "success", "status");
  const tx = await pub.getTransaction({ hash });
  const before = rc.blockNumber - 1n;
  const t = await pub.request({ method: "debug_traceTransaction", params: [hash, { tracer: "prestateTracer" }] });
  assert(t && typeof t === "object", `result ${show(t)}`);
  for (const k of Object.keys(t)) eq(k, k.toLowerCase(), "accounts are keyed by lowercase address");
  const s = t[lower(a1.address)];
  assert(s, `sender missing from ${show(Object.keys(t))}`);
  // Our previous transaction is mined in an earlier block, so the state
  // before this one is the state at the end of the previous block.
  eq(BigInt(s.balance), await pub.getBalance({ address: a1.address, blockNumber: before }), "sender balance");
  eq(s.nonce, tx.nonce, "sender nonce (a JSON number, as geth writes it)");
  const c = t[lower(address)];
  assert(c, `contract missing from ${show(Object.keys(t))}`);
  eq(c.balance, "0x0", "contract balance");
  eq(c.nonce, 1, "contract nonce");
  eq(c.code, deployedBytecode, "contract code");
  const slot0 = `0x${"0".repeat(64)}`;
  const count = await pub.readContract({ address, abi, functionName: "count", blockNumber: before });
  eq(BigInt(c.storage?.[slot0] ?? -1), count, "storage slot 0 (count) before the tx");
});

await check("debug_traceCall callTracer: nested call, and a reverting one", async () => {
  need(other, "second contract");
  const ok = await pub.request({ method: "debug_traceCall", params: [
    { from: a1.address, to: probe, data: encodeFunctionData({ abi, functionName: "relay", args: [other, 5n] }) },
    "latest", { tracer: "callTracer" }] });
  assertFrame(ok, { from: a1.address, to: probe, input: encodeFunctionData({ abi, functionName: "relay", args: [other, 5n] }) }, "top frame");
  assert(ok.error === undefined, `top frame error ${ok.error}`);
  eq(ok.calls?.length, 1, "nested calls");
  assertFrame(ok.calls[0], { from: probe, to: other, input: encodeFunctionData({ abi, functionName: "store", args: [5n] }) }, "calls[0]");
  assert(ok.calls[0].error === undefined, `calls[0] error ${ok.calls[0].error}`);
  const bad = await pub.request({ method: "debug_traceCall", params: [
    { from: a1.address, to: probe, data: encodeFunctionData({ abi, functionName: "relay", args: [other, 1000n] }) },
    "latest", { tracer: "callTracer" }] });
  eq(bad.error, "execution reverted", "reverting call's error");
  eq(bad.calls?.[0]?.revertReason, REASON, "reverting call's calls[0] revertReason");
});

// ------------------------------------------------------------------- end

await (await wsClient.transport.getRpcClient()).close?.();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
