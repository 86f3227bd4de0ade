"""Drives libgont_vm from Python with ctypes: deploys a contract from a raw
signed transaction, seals, calls it, closes, reopens and reads the state
again; bad input gives errors.

usage: python3 deploy.py LIBRARY DATA_DIR RAW_TX_HEX CONTRACT_ADDRESS
Prints one line per check and `python: N checks passed`; exits 1 at the
first failure.
"""

import ctypes
import json
import sys

STORED = "0x" + "00" * 31 + "2a"


def load(path):
    lib = ctypes.CDLL(path)
    lib.gont_vm_open.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.gont_vm_open.restype = ctypes.c_void_p
    lib.gont_vm_rpc.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    # A pointer, not c_char_p: the string must go back to gont_vm_string_free.
    lib.gont_vm_rpc.restype = ctypes.c_void_p
    lib.gont_vm_seal.argtypes = [ctypes.c_void_p]
    lib.gont_vm_seal.restype = ctypes.c_int64
    lib.gont_vm_development_genesis.argtypes = []
    lib.gont_vm_development_genesis.restype = ctypes.c_void_p
    lib.gont_vm_last_error.argtypes = []
    lib.gont_vm_last_error.restype = ctypes.c_char_p
    lib.gont_vm_string_free.argtypes = [ctypes.c_void_p]
    lib.gont_vm_string_free.restype = None
    lib.gont_vm_close.argtypes = [ctypes.c_void_p]
    lib.gont_vm_close.restype = None
    return lib


class Vm:
    def __init__(self, lib, data_dir, genesis):
        self.lib = lib
        self.handle = lib.gont_vm_open(data_dir.encode(), genesis)
        if not self.handle:
            raise RuntimeError(lib.gont_vm_last_error().decode())

    def rpc(self, method, *params):
        return self.raw(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}))

    def raw(self, text):
        ptr = self.lib.gont_vm_rpc(self.handle, text.encode() if isinstance(text, str) else text)
        if not ptr:
            raise RuntimeError(self.lib.gont_vm_last_error().decode())
        try:
            return json.loads(ctypes.string_at(ptr).decode())
        finally:
            self.lib.gont_vm_string_free(ptr)

    def seal(self):
        height = self.lib.gont_vm_seal(self.handle)
        if height < 0:
            raise RuntimeError(self.lib.gont_vm_last_error().decode())
        return height

    def close(self):
        self.lib.gont_vm_close(self.handle)
        self.handle = None


checks = 0


def check(ok, what, detail=None):
    global checks
    if not ok:
        print(f"FAILED: {what} ({detail})", file=sys.stderr)
        sys.exit(1)
    checks += 1
    print(f"ok   {what}")


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    library, data_dir, raw, contract = sys.argv[1:]
    lib = load(library)
    ptr = lib.gont_vm_development_genesis()
    genesis = ctypes.string_at(ptr)
    lib.gont_vm_string_free(ptr)

    vm = Vm(lib, data_dir, genesis)
    answer = vm.rpc("eth_chainId")
    check(answer.get("result") == "0x7a69", "eth_chainId is 31337", answer)
    answer = vm.rpc("eth_sendRawTransaction", raw)
    check("result" in answer, "eth_sendRawTransaction admits the deployment", answer)
    tx_hash = answer["result"]
    check(vm.seal() == 1, "gont_vm_seal seals block 1")
    receipt = vm.rpc("eth_getTransactionReceipt", tx_hash)["result"]
    check(receipt["status"] == "0x1" and receipt["contractAddress"].lower() == contract.lower(),
          "the receipt names the contract", receipt)
    answer = vm.rpc("eth_call", {"to": contract}, "latest")
    check(answer.get("result") == STORED, "eth_call returns the stored 42", answer)
    vm.close()

    vm = Vm(lib, data_dir, genesis)
    answer = vm.rpc("eth_blockNumber")
    check(answer.get("result") == "0x1", "the reopened chain is at height 1", answer)
    answer = vm.rpc("eth_getStorageAt", contract, "0x0", "latest")
    check(answer.get("result") == STORED, "the slot holds 42 after reopening", answer)
    answer = vm.raw("not json")
    check(answer["error"]["code"] == -32700, "garbage gets a JSON-RPC parse error", answer)
    try:
        vm.raw(b"\xff\xfe")
        check(False, "invalid UTF-8 is an error")
    except RuntimeError as e:
        check("UTF-8" in str(e), "invalid UTF-8 is an error", e)
    vm.close()
    print(f"python: {checks} checks passed")


main()
