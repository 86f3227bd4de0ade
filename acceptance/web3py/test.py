"""Acceptance: an unmodified Ethereum client library (web3.py v7), written by
no one on the team, against a running node's JSON-RPC over HTTP and
WebSocket. One line per check, `ok - name` or `FAIL - name: reason`, then
`N passed, M failed`; exit status 1 if any check failed.

  GONT_RPC        HTTP endpoint (default http://127.0.0.1:8545)
  GONT_WS         WebSocket endpoint (default: GONT_RPC's host and port with
                  ws://, as GONT serves both on one port)
  GONT_MNEMONIC   the devnet's mnemonic (default the standard test one)
  GONT_CHAIN_ID   if set, the chain id eth_chainId must answer
  PROBE_ARTIFACT  Probe.sol compiled: {"abi", "bytecode", "deployedBytecode"}
                  (default Probe.json beside this file). run.sh makes it at
                  run time with ../viem/compile.mjs and the solc-js version
                  pinned in ../viem/package.json, so both clients deploy the
                  same bytecode and there is no committed artifact to go stale.

Sends only from dev accounts 3 and 4 (the viem client uses 1 and 2, the
devnet's operators 10..19), so it can run beside the other clients on one
chain. The debug_* checks expect geth's built-in tracers' output
(https://geth.ethereum.org/docs/developers/evm-tracing/built-in-tracers).
"""

import asyncio
import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import rlp  # a dependency of eth-account, for the CREATE address
from eth_account import Account
from hexbytes import HexBytes
from web3 import AsyncWeb3, Web3, WebSocketProvider
from web3.exceptions import ContractLogicError, TransactionNotFound
from web3.middleware import SignAndSendRawMiddlewareBuilder


def default_ws(rpc: str) -> str:
    u = urlsplit(rpc)
    return urlunsplit(("wss" if u.scheme == "https" else "ws", u.netloc, u.path, u.query, u.fragment))


RPC = os.environ.get("GONT_RPC", "http://127.0.0.1:8545")
WS = os.environ.get("GONT_WS") or default_ws(RPC)
MNEMONIC = os.environ.get("GONT_MNEMONIC", "test test test test test test test test test test test junk")
ARTIFACT = Path(os.environ.get("PROBE_ARTIFACT", Path(__file__).with_name("Probe.json")))
# What `Probe.store` reverts with above its limit.
REASON = "Probe: value over limit"

# ------------------------------------------------------------------ harness

passed = failed = 0
# A check that hangs is a failure, not a stuck run.
CHECK_TIMEOUT_S = 120


class CheckTimeout(Exception):
    pass


def _alarm(signum, frame):
    raise CheckTimeout(f"timed out after {CHECK_TIMEOUT_S} s")


signal.signal(signal.SIGALRM, _alarm)

# web3.py logs some failures (a refused eth_unsubscribe) to stderr as well;
# the checks report them, so its log stays quiet unless GONT_VERBOSE is set.
if not os.environ.get("GONT_VERBOSE"):
    logging.getLogger("web3").addHandler(logging.NullHandler())
    logging.getLogger("web3").propagate = False


def one_line(e: BaseException) -> str:
    text = str(e) if isinstance(e, (AssertionError, CheckTimeout)) else f"{type(e).__name__}: {e}"
    return re.sub(r"\s+", " ", text)[:300]


def check(name):
    """Runs the decorated function at once, as one check."""

    def run(fn):
        global passed, failed
        signal.alarm(CHECK_TIMEOUT_S)
        try:
            fn()
        except Exception as e:  # every failure is reported, none stops the run
            failed += 1
            print(f"FAIL - {name}: {one_line(e)}", flush=True)
        else:
            passed += 1
            print(f"ok - {name}", flush=True)
        finally:
            signal.alarm(0)
        return fn

    return run


# Not `assert`: python -O would drop those.
def ensure(cond, msg):
    if not cond:
        raise AssertionError(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def until(what, fn, timeout=30.0):
    """Polls `fn` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not seen within {timeout:.0f} s")
        time.sleep(0.25)


def need(v, what):
    ensure(v is not None, f"no {what} (an earlier check failed)")
    return v


def is_quantity(v) -> bool:
    return isinstance(v, str) and re.fullmatch(r"0x[0-9a-f]+", v) is not None


# ------------------------------------------------------------------- setup

w3 = Web3(Web3.HTTPProvider(RPC, request_kwargs={"timeout": 30}))
try:
    CHAIN_ID = w3.eth.chain_id
except Exception as e:
    print(f"FAIL - the node answers at {RPC}: {one_line(e)}")
    print("0 passed, 1 failed")
    sys.exit(1)

Account.enable_unaudited_hdwallet_features()
a3 = Account.from_mnemonic(MNEMONIC, account_path="m/44'/60'/0'/0/3")
a4 = Account.from_mnemonic(MNEMONIC, account_path="m/44'/60'/0'/0/4")
# Signs eth_sendTransaction from these accounts locally and sends it raw;
# it fills the nonce with eth_getTransactionCount(…, "pending") and the
# gas (eth_estimateGas) and fees unless given.
w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build([a3, a4]), layer=0)
w3.eth.default_account = a3.address

art = json.loads(ARTIFACT.read_text())
ABI = art["abi"]
Probe = w3.eth.contract(abi=ABI, bytecode=art["bytecode"])


def mined(tx_hash):
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=60, poll_latency=0.25)


def raw(method, params):
    """A method web3.py has no function for (or would reformat): the node's
    JSON answer as it is."""
    resp = w3.provider.make_request(method, params)
    if "error" in resp:
        raise RuntimeError(f"{method}: {resp['error']}")
    return resp["result"]


def encode(contract, fn, *args):
    """The calldata of `fn(*args)`, as a 0x-hex string."""
    return contract.encode_abi(fn, args=list(args))


def create_address(sender: str, nonce: int) -> str:
    return Web3.to_checksum_address(Web3.keccak(rlp.encode([HexBytes(sender), nonce]))[12:])


# Filled in by the checks that create them; later checks fail cleanly without.
probe = other = bump_hash = bump_rc = None

# ---------------------------------------------------------- 1. chain, blocks


@check("eth_chainId answers the chain id net_version names")
def _():
    ensure(isinstance(CHAIN_ID, int) and CHAIN_ID > 0, f"chain id {CHAIN_ID}")
    eq(str(w3.eth.chain_id), w3.net.version, "net_version")
    if os.environ.get("GONT_CHAIN_ID"):
        eq(w3.eth.chain_id, int(os.environ["GONT_CHAIN_ID"]), "GONT_CHAIN_ID")


@check("eth_blockNumber advances")
def _():
    n0 = w3.eth.block_number
    until(f"a block after #{n0}", lambda: w3.eth.block_number > n0)


@check("eth_getBlockByNumber latest: linked to its parent, found by hash")
def _():
    b = w3.eth.get_block("latest")
    eq(len(b["hash"]), 32, "hash length")
    ensure(b["number"] > 0 and b["gasLimit"] > 0 and isinstance(b["baseFeePerGas"], int), f"header {dict(b)}")
    ensure(isinstance(b["transactions"], list), "transactions is a list")
    parent = w3.eth.get_block(b["number"] - 1)
    eq(b["parentHash"], parent["hash"], "parentHash")
    ensure(b["timestamp"] >= parent["timestamp"], "timestamps do not go back")
    eq(w3.eth.get_block(b["hash"])["number"], b["number"], "block by hash")


# -------------------------------------------------------------- 2. contract


@check("deploy Probe (and a second one) from account 3; receipt; code stored")
def _():
    global probe, other
    tx_hash = Probe.constructor(7).transact()
    rc = mined(tx_hash)
    eq(rc["status"], 1, "status")
    eq(rc["from"], a3.address, "receipt from")
    tx = w3.eth.get_transaction(tx_hash)
    eq(rc["contractAddress"], create_address(a3.address, tx["nonce"]), "contractAddress is CREATE(sender, nonce)")
    eq(w3.eth.get_code(rc["contractAddress"]), HexBytes(art["deployedBytecode"]), "eth_getCode")
    probe = w3.eth.contract(address=rc["contractAddress"], abi=ABI)
    # The target of `relay`, whose nested call reverts (checks 4 and 10).
    rc2 = mined(Probe.constructor(0).transact())
    eq(rc2["status"], 1, "second deploy status")
    other = w3.eth.contract(address=rc2["contractAddress"], abi=ABI)


# ---------------------------------------------------- 3. calls, txs, events


@check("eth_call of views: count, countPlus, LIMIT")
def _():
    p = need(probe, "contract")
    eq(p.functions.count().call(), 7, "count")
    eq(p.functions.countPlus(5).call(), 12, "countPlus(5)")
    eq(p.functions.LIMIT().call(), 100, "LIMIT")


@check("bump(42): mined, state changed, Bumped in the receipt's logs")
def _():
    global bump_hash, bump_rc
    p = need(probe, "contract")
    tx_hash = p.functions.bump(42).transact()
    rc = mined(tx_hash)
    eq(rc["status"], 1, "status")
    events = p.events.Bumped().process_receipt(rc)
    eq(len(events), 1, "Bumped events in the receipt")
    ev = events[0]
    eq(ev["address"], p.address, "log address")
    eq(ev["args"]["by"], a3.address, "by")
    eq(ev["args"]["count"], 8, "count")
    eq(ev["args"]["value"], 42, "value")
    eq(p.functions.count().call(), 8, "count after")
    eq(p.functions.lastValue(a3.address).call(), 42, "lastValue")
    bump_hash, bump_rc = tx_hash, rc


@check("eth_getLogs finds the event by address and indexed topic")
def _():
    p, rc = need(probe, "contract"), need(bump_rc, "bump receipt")
    bn = rc["blockNumber"]
    logs = p.events.Bumped.get_logs(argument_filters={"by": a3.address}, from_block=bn, to_block=bn)
    eq(len(logs), 1, "logs for by = account 3")
    eq(logs[0]["transactionHash"], bump_hash, "transactionHash")
    eq(logs[0]["args"]["value"], 42, "value")
    eq(logs[0]["logIndex"], rc["logs"][0]["logIndex"], "logIndex as in the receipt")
    # The topic filter really filters: nothing was bumped by account 4.
    topic0 = Web3.keccak(text="Bumped(address,uint256,uint256)")
    by4 = HexBytes(bytes(12) + HexBytes(a4.address))
    none = w3.eth.get_logs({"address": p.address, "fromBlock": bn, "toBlock": bn, "topics": [topic0, by4]})
    eq(len(none), 0, "logs for by = account 4")


@check("eth_newFilter: get_new_entries and get_all_entries see a later event")
def _():
    p = need(probe, "contract")
    # An explicit from_block: with "latest", eth_getFilterLogs looks at the
    # latest block when it is called (geth and reth do the same), which with
    # short blocks is already past the event's.
    f = p.events.Bumped.create_filter(from_block=w3.eth.block_number)
    tx_hash = p.functions.bump(43).transact()
    eq(mined(tx_hash)["status"], 1, "status")
    seen = []

    def found():
        seen.extend(f.get_new_entries())
        return any(e["transactionHash"] == tx_hash for e in seen)

    until("the event in eth_getFilterChanges", found)
    ev = next(e for e in seen if e["transactionHash"] == tx_hash)
    eq(ev["args"]["value"], 43, "value from the filter")
    ensure(any(e["transactionHash"] == tx_hash for e in f.get_all_entries()), "eth_getFilterLogs has the event")
    eq(w3.eth.uninstall_filter(f.filter_id), True, "eth_uninstallFilter")


# ------------------------------------------------------------------ 4. revert


@check("revert reason from eth_estimateGas and eth_call")
def _():
    p = need(probe, "contract")
    gas = p.functions.store(5).estimate_gas()
    ensure(gas > 21000, f"store(5) estimates {gas}")
    for what, run in (("eth_estimateGas", lambda: p.functions.store(1000).estimate_gas()),
                      ("eth_call", lambda: p.functions.store(1000).call())):
        try:
            run()
        except ContractLogicError as e:
            eq(e.message, f"execution reverted: {REASON}", f"{what} revert message")
        else:
            raise AssertionError(f"{what} of store(1000) did not fail")


# -------------------------------------------------------------------- 5. fees


@check("eth_feeHistory: shape, and values as the blocks have them")
def _():
    rc = need(bump_rc, "bump receipt")
    n = rc["blockNumber"]
    ensure(n >= 3, f"block {n} too low for 4 blocks of history")
    fh = w3.eth.fee_history(4, n, [0, 50, 100])
    eq(fh["oldestBlock"], n - 3, "oldestBlock")
    eq(len(fh["baseFeePerGas"]), 5, "baseFeePerGas entries (blocks + the next)")
    eq(len(fh["gasUsedRatio"]), 4, "gasUsedRatio entries")
    eq(len(fh.get("reward") or []), 4, "reward entries")
    for i in range(4):
        b = w3.eth.get_block(n - 3 + i)
        eq(fh["baseFeePerGas"][i], b["baseFeePerGas"], f"baseFeePerGas[{i}]")
        ratio = b["gasUsed"] / b["gasLimit"]
        ensure(abs(fh["gasUsedRatio"][i] - ratio) < 1e-9, f"gasUsedRatio[{i}] {fh['gasUsedRatio'][i]}, block has {ratio}")
        r = fh["reward"][i]
        eq(len(r), 3, f"reward[{i}] percentiles")
        ensure(r[0] <= r[1] <= r[2], f"reward[{i}] ordered: {r}")
    # The last base fee is the one of the block after the newest asked for.
    until(f"block {n + 1}", lambda: w3.eth.block_number > n)
    eq(fh["baseFeePerGas"][4], w3.eth.get_block(n + 1)["baseFeePerGas"], "baseFeePerGas[4] = block n+1's")
    # Our bump's tip lies between the block's 0th and 100th percentile.
    tip = rc["effectiveGasPrice"] - fh["baseFeePerGas"][3]
    ensure(fh["reward"][3][0] <= tip <= fh["reward"][3][2], f"tip {tip} outside {fh['reward'][3]}")


@check("eth_gasPrice = a current base fee + eth_maxPriorityFeePerGas")
def _():
    head = w3.eth.get_block("latest")
    gp, tip = w3.eth.gas_price, w3.eth.max_priority_fee
    ensure(gp > 0 and gp >= tip, f"gasPrice {gp}, tip {tip}")
    # The base fee moves at most 1/8 a block; allow for a block between calls.
    base, b = gp - tip, head["baseFeePerGas"]
    ensure(b * 7 // 8 <= base <= b * 9 // 8 + 1, f"gasPrice - tip = {base}, head base fee {b}")


# -------------------------------------------------------- 6. block receipts


@check("eth_getBlockReceipts of the bump's block holds its receipt")
def _():
    rc = need(bump_rc, "bump receipt")
    rcs = w3.eth.get_block_receipts(rc["blockNumber"])
    block = w3.eth.get_block(rc["blockNumber"])
    eq(len(rcs), len(block["transactions"]), "one receipt per transaction")
    for i, r in enumerate(rcs):
        eq(r["transactionIndex"], i, f"receipt {i} index")
        eq(r["transactionHash"], block["transactions"][i], f"receipt {i} hash")
        eq(r["blockHash"], block["hash"], f"receipt {i} blockHash")
    mine = next((r for r in rcs if r["transactionHash"] == bump_hash), None)
    ensure(mine is not None, "our receipt is there")
    eq(mine["gasUsed"], rc["gasUsed"], "gasUsed")
    eq(mine["status"], 1, "status")
    eq(len(mine["logs"]), 1, "logs")
    eq(mine["logs"][0]["data"], rc["logs"][0]["data"], "log data")


# ------------------------------------------------------------------ 7. txpool


def assert_pool_shape(content):
    """geth's txpool_content shape: {pending, queued} of checksummed sender ->
    decimal nonce -> transaction."""
    for side in ("pending", "queued"):
        by_sender = content.get(side)
        ensure(hasattr(by_sender, "items"), f"{side} is an object: {by_sender!r}")
        for sender, by_nonce in by_sender.items():
            eq(sender, Web3.to_checksum_address(sender), f"{side} key is a checksummed address")
            for nonce, tx in by_nonce.items():
                ensure(re.fullmatch(r"\d+", nonce), f"{side} {sender} nonce key {nonce!r} is decimal")
                eq(int(str(tx["nonce"]), 0), int(nonce), f"{side} {sender}/{nonce} nonce")
                eq(str(tx["from"]).lower(), sender.lower(), f"{side} {sender}/{nonce} from")
                eq(len(HexBytes(tx["hash"])), 32, f"{side} {sender}/{nonce} hash")


@check("txpool content/status/inspect show a queued tx (account 4, nonce gap), then drain")
def _():
    sender, n = a4.address, w3.eth.get_transaction_count(a4.address, "pending")
    send = {"from": sender, "to": a3.address, "value": 1, "gas": 21000}
    # Skip nonce n: the transaction waits in `queued` until n arrives.
    gapped = w3.eth.send_transaction({**send, "nonce": n + 1})
    content = w3.geth.txpool.content()
    assert_pool_shape(content)
    q = content["queued"].get(sender, {}).get(str(n + 1))
    ensure(q is not None, f"queued[{sender}][{n + 1}] missing: {content['queued']!r}"[:300])
    eq(HexBytes(q["hash"]), gapped, "queued transaction hash")
    ensure(str(n + 1) not in content["pending"].get(sender, {}), "the gapped transaction is not pending")
    status = w3.geth.txpool.status()
    ensure(is_quantity(status["pending"]) and is_quantity(status["queued"]), f"status {dict(status)}")
    ensure(int(status["queued"], 16) >= 1, f"status.queued {status['queued']}")
    inspect = w3.geth.txpool.inspect()
    line = inspect["queued"].get(sender, {}).get(str(n + 1), "")
    ensure(re.fullmatch(rf"{a3.address}: 1 wei \+ 21000 gas × \d+ wei", line), f"inspect line {line!r}")
    # Fill the gap: both are mined, and the pool forgets them.
    filler = w3.eth.send_transaction({**send, "nonce": n})
    eq(mined(filler)["status"], 1, "filler status")
    eq(mined(gapped)["status"], 1, "gapped status")
    after = w3.geth.txpool.content()
    assert_pool_shape(after)
    ensure(str(n + 1) not in after["queued"].get(sender, {}) and str(n + 1) not in after["pending"].get(sender, {}),
           "the mined transaction is still in the pool")


# --------------------------------------------------------- 8. small methods


@check("eth_getTransactionByBlockNumberAndIndex finds the bump")
def _():
    rc = need(bump_rc, "bump receipt")
    tx = w3.eth.get_transaction_by_block(rc["blockNumber"], rc["transactionIndex"])
    eq(tx["hash"], bump_hash, "hash")
    eq(tx["from"], a3.address, "from")
    eq(tx["input"], HexBytes(encode(probe, "bump", 42)), "input")
    eq(tx["transactionIndex"], rc["transactionIndex"], "transactionIndex")
    try:
        w3.eth.get_transaction_by_block(rc["blockNumber"], 10_000)
    except TransactionNotFound:
        pass  # the node answered null
    else:
        raise AssertionError("an index past the end found a transaction")


@check("eth_getHeaderByNumber is the block's header")
def _():
    rc = need(bump_rc, "bump receipt")
    h = raw("eth_getHeaderByNumber", [hex(rc["blockNumber"])])
    b = raw("eth_getBlockByNumber", [hex(rc["blockNumber"]), False])
    for k in ("hash", "number", "parentHash", "stateRoot", "receiptsRoot", "transactionsRoot",
              "baseFeePerGas", "gasUsed", "timestamp"):
        eq((h or {}).get(k), b[k], k)
    ensure("transactions" not in h, "a header has no transactions")


@check("web3_sha3 is keccak-256")
def _():
    eq(raw("web3_sha3", [Web3.to_hex(text="hello")]), Web3.keccak(text="hello").to_0x_hex(), "keccak('hello')")
    eq(raw("web3_sha3", ["0x"]), "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470", "keccak('')")


@check("net_peerCount > 0 (a multi-node devnet)")
def _():
    peers = w3.net.peer_count
    ensure(isinstance(peers, int) and peers > 0, f"net_peerCount {peers!r}")


@check("eth_accounts is empty (the node holds no keys)")
def _():
    eq(list(w3.eth.accounts), [], "eth_accounts")


# ---------------------------------------------------------------- 9. WebSocket


async def ws_subscription_id():
    async with AsyncWeb3(WebSocketProvider(WS)) as aw3:
        sub = await aw3.eth.subscribe("newHeads")
        unsubscribed = await aw3.eth.unsubscribe(sub)
    # geth's ids are "0x" and 32 hex digits.
    ensure(isinstance(sub, str) and re.fullmatch(r"0x[0-9a-f]+", sub), f"subscription id {sub!r} ({type(sub).__name__})")
    eq(unsubscribed, True, "eth_unsubscribe")


async def ws_new_heads():
    async with AsyncWeb3(WebSocketProvider(WS)) as aw3:
        sub = await aw3.eth.subscribe("newHeads")
        heads = []

        async def collect():
            async for msg in aw3.socket.process_subscriptions():
                if msg["subscription"] == sub:
                    heads.append(msg["result"])
                if len(heads) >= 2:
                    return

        try:
            await asyncio.wait_for(collect(), 30)
        except asyncio.TimeoutError:
            raise AssertionError(f"{len(heads)} newHeads within 30 s") from None
        await aw3.eth.unsubscribe(sub)
    h1, h2 = heads
    ensure(h2["number"] > h1["number"], f"head numbers {h1['number']}, {h2['number']}")
    if h2["number"] == h1["number"] + 1:
        eq(h2["parentHash"], h1["hash"], "second head's parentHash")
    eq(h1["hash"], w3.eth.get_block(h1["number"])["hash"], "first head is the block of its number")


async def ws_pending():
    async with AsyncWeb3(WebSocketProvider(WS)) as aw3:
        sub = await aw3.eth.subscribe("newPendingTransactions")
        # Sent over HTTP, in a thread so the socket keeps being read.
        tx_hash = await asyncio.to_thread(w3.eth.send_transaction, {"from": a3.address, "to": a4.address, "value": 1})

        async def wait_for_ours():
            async for msg in aw3.socket.process_subscriptions():
                if msg["subscription"] == sub and HexBytes(msg["result"]) == tx_hash:
                    return

        try:
            await asyncio.wait_for(wait_for_ours(), 30)
        except asyncio.TimeoutError:
            raise AssertionError(f"{tx_hash.to_0x_hex()} not on the subscription within 30 s") from None
        await aw3.eth.unsubscribe(sub)
    eq(mined(tx_hash)["status"], 1, "status")


@check("WebSocket eth_subscribe answers a hex-string subscription id, as geth")
def _():
    asyncio.run(ws_subscription_id())


@check("WebSocket eth_subscribe newHeads: two heads, in order")
def _():
    asyncio.run(ws_new_heads())


@check("WebSocket eth_subscribe newPendingTransactions: our HTTP-sent tx's hash arrives")
def _():
    asyncio.run(ws_pending())


# ---------------------------------------------------------------- 10. tracing

relay_hash = relay_rc = None


@check("a tx whose nested call reverts is mined with status 0 (explicit gas)")
def _():
    global relay_hash, relay_rc
    p, o = need(probe, "contract"), need(other, "second contract")
    # An explicit gas limit skips eth_estimateGas, which would refuse it.
    relay_hash = p.functions.relay(o.address, 1000).transact({"gas": 300_000})
    relay_rc = mined(relay_hash)
    eq(relay_rc["status"], 0, "status")
    eq(p.functions.relayed().call(), 0, "relayed rolled back")


def assert_frame(f, frm, to, data, where):
    """One geth callTracer frame, as web3.py formats it: type, from, to,
    input, gas and gasUsed."""
    ensure(hasattr(f, "get"), f"{where}: no frame, got {f!r}")
    eq(f.get("type"), "CALL", f"{where} type")
    eq(f.get("from"), frm, f"{where} from")
    eq(f.get("to"), to, f"{where} to")
    eq(HexBytes(f.get("input", b"")), HexBytes(data), f"{where} input")
    gas, used = f.get("gas"), f.get("gasUsed")
    ensure(isinstance(gas, int) and isinstance(used, int) and 0 < used <= gas, f"{where} gasUsed {used!r} of gas {gas!r}")


@check("debug_traceTransaction callTracer: failed nested call with its revertReason")
def _():
    tx_hash, p, o = need(relay_hash, "relay transaction"), probe, other
    t = w3.geth.debug.trace_transaction(tx_hash, {"tracer": "callTracer"})
    assert_frame(t, a3.address, p.address, encode(p, "relay", o.address, 1000), "top frame")
    ensure(t["gas"] <= 300_000, f"top frame gas {t['gas']} above the tx's limit")
    eq(t["gasUsed"], relay_rc["gasUsed"], "top frame gasUsed = receipt gasUsed")
    eq(t.get("error"), "execution reverted", "top frame error")
    eq(t.get("revertReason"), REASON, "top frame revertReason")
    eq(len(t.get("calls") or []), 1, "nested calls")
    c = t["calls"][0]
    assert_frame(c, p.address, o.address, encode(p, "store", 1000), "calls[0]")
    eq(c.get("error"), "execution reverted", "calls[0] error")
    eq(c.get("revertReason"), REASON, "calls[0] revertReason")


@check("debug_traceTransaction prestateTracer: sender and contract before the tx")
def _():
    p = need(probe, "contract")
    tx_hash = p.functions.bump(44).transact()
    rc = mined(tx_hash)
    eq(rc["status"], 1, "status")
    tx = w3.eth.get_transaction(tx_hash)
    before = rc["blockNumber"] - 1
    # Raw: web3.py's formatter would rewrite the keys to checksummed addresses.
    t = raw("debug_traceTransaction", [tx_hash.to_0x_hex(), {"tracer": "prestateTracer"}])
    ensure(isinstance(t, dict), f"result {t!r}")
    for k in t:
        eq(k, k.lower(), "accounts are keyed by lowercase address")
    s = t.get(a3.address.lower())
    ensure(s is not None, f"sender missing from {list(t)}")
    # Our previous transaction is mined in an earlier block, so the state
    # before this one is the state at the end of the previous block.
    eq(int(s["balance"], 16), w3.eth.get_balance(a3.address, before), "sender balance")
    eq(s.get("nonce"), tx["nonce"], "sender nonce (a JSON number, as geth writes it)")
    c = t.get(p.address.lower())
    ensure(c is not None, f"contract missing from {list(t)}")
    eq(c.get("balance"), "0x0", "contract balance")
    eq(c.get("nonce"), 1, "contract nonce")
    eq(c.get("code"), art["deployedBytecode"], "contract code")
    slot0 = "0x" + "0" * 64
    count = p.functions.count().call(block_identifier=before)
    eq(int((c.get("storage") or {}).get(slot0, "-0x1"), 16), count, "storage slot 0 (count) before the tx")


@check("debug_traceCall callTracer: nested call, and a reverting one")
def _():
    p, o = need(probe, "contract"), need(other, "second contract")
    ok = raw("debug_traceCall", [
        {"from": a3.address, "to": p.address, "data": encode(p, "relay", o.address, 5)},
        "latest", {"tracer": "callTracer"}])
    eq(ok.get("type"), "CALL", "top frame type")
    eq(ok.get("from", "").lower(), a3.address.lower(), "top frame from")
    eq(ok.get("to", "").lower(), p.address.lower(), "top frame to")
    eq(ok.get("input"), encode(p, "relay", o.address, 5), "top frame input")
    ensure(is_quantity(ok.get("gas")) and is_quantity(ok.get("gasUsed")), f"top frame gas {ok.get('gas')}, gasUsed {ok.get('gasUsed')}")
    ensure("error" not in ok, f"top frame error {ok.get('error')}")
    eq(len(ok.get("calls") or []), 1, "nested calls")
    c = ok["calls"][0]
    eq((c.get("from", "").lower(), c.get("to", "").lower()), (p.address.lower(), o.address.lower()), "calls[0] from, to")
    eq(c.get("input"), encode(p, "store", 5), "calls[0] input")
    ensure("error" not in c, f"calls[0] error {c.get('error')}")
    bad = raw("debug_traceCall", [
        {"from": a3.address, "to": p.address, "data": encode(p, "relay", o.address, 1000)},
        "latest", {"tracer": "callTracer"}])
    eq(bad.get("error"), "execution reverted", "reverting call's error")
    eq(((bad.get("calls") or [{}])[0]).get("revertReason"), REASON, "reverting call's calls[0] revertReason")


# --------------------------------------------------------------------- end

print(f"{passed} passed, {failed} failed")
sys.exit(0 if failed == 0 else 1)
