/* Drives libgont_vm from C: deploys a contract from a raw signed
 * transaction, seals, calls it, closes, reopens and reads the state again;
 * then checks that bad input gives errors, not crashes.
 *
 * usage: deploy DATA_DIR RAW_TX_HEX CONTRACT_ADDRESS
 * Prints one line per check and `c: N checks passed`; exits 1 at the first
 * failure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gont_vm.h"

static int checks = 0;

static void check(int ok, const char *what, const char *detail) {
    if (!ok) {
        fprintf(stderr, "FAILED: %s (%s)\n", what, detail ? detail : "-");
        exit(1);
    }
    checks++;
    printf("ok   %s\n", what);
}

/* Calls the VM and returns the answer (caller frees); exits on NULL. */
static char *rpc(GontVm *vm, const char *request) {
    char *answer = gont_vm_rpc(vm, request);
    if (answer == NULL) {
        fprintf(stderr, "FAILED: gont_vm_rpc(%s): %s\n", request, gont_vm_last_error());
        exit(1);
    }
    return answer;
}

static void expect(GontVm *vm, const char *request, const char *needle, const char *what) {
    char *answer = rpc(vm, request);
    check(strstr(answer, needle) != NULL, what, answer);
    gont_vm_string_free(answer);
}

static const char *STORED =
    "0x000000000000000000000000000000000000000000000000000000000000002a";

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s DATA_DIR RAW_TX_HEX CONTRACT_ADDRESS\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    const char *raw = argv[2];
    const char *contract = argv[3];
    char request[4096];

    char *genesis = gont_vm_development_genesis();
    check(genesis != NULL, "a development genesis", gont_vm_last_error());

    GontVm *vm = gont_vm_open(dir, genesis);
    check(vm != NULL, "gont_vm_open creates the chain", gont_vm_last_error());
    expect(vm, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"eth_chainId\",\"params\":[]}",
           "\"result\":\"0x7a69\"", "eth_chainId is 31337");

    snprintf(request, sizeof request,
             "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"eth_sendRawTransaction\",\"params\":[\"%s\"]}",
             raw);
    expect(vm, request, "\"result\":\"0x", "eth_sendRawTransaction admits the deployment");
    int64_t height = gont_vm_seal(vm);
    check(height == 1, "gont_vm_seal seals block 1", gont_vm_last_error());

    snprintf(request, sizeof request,
             "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"eth_call\",\"params\":[{\"to\":\"%s\"},\"latest\"]}",
             contract);
    expect(vm, request, STORED, "eth_call returns the stored 42");
    gont_vm_close(vm);

    vm = gont_vm_open(dir, genesis);
    check(vm != NULL, "gont_vm_open reopens the chain", gont_vm_last_error());
    expect(vm, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"eth_blockNumber\",\"params\":[]}",
           "\"result\":\"0x1\"", "the reopened chain is at height 1");
    snprintf(request, sizeof request,
             "[{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"eth_getStorageAt\",\"params\":[\"%s\",\"0x0\",\"latest\"]},"
             "{\"jsonrpc\":\"2.0\",\"id\":6,\"method\":\"eth_call\",\"params\":[{\"to\":\"%s\"},\"latest\"]}]",
             contract, contract);
    char *batch = rpc(vm, request);
    check(batch[0] == '[' && strstr(batch, "\"id\":5") && strstr(batch, "\"id\":6") &&
              strstr(strstr(batch, "\"id\":6"), STORED),
          "a batch reads the slot and calls the contract after reopening", batch);
    gont_vm_string_free(batch);

    /* Bad input: errors, never crashes. */
    check(gont_vm_rpc(NULL, "{}") == NULL && gont_vm_last_error() != NULL,
          "a NULL handle is an error", NULL);
    check(gont_vm_rpc(vm, NULL) == NULL && strstr(gont_vm_last_error(), "NULL") != NULL,
          "a NULL request is an error", gont_vm_last_error());
    check(gont_vm_rpc(vm, "\xff\xfe") == NULL && strstr(gont_vm_last_error(), "UTF-8") != NULL,
          "invalid UTF-8 is an error", gont_vm_last_error());
    expect(vm, "this is not json", "-32700", "garbage gets a JSON-RPC parse error");
    expect(vm, "{\"jsonrpc\":\"2.0\",\"id\":7,\"method\":\"eth_sendRawTransaction\",\"params\":[\"0x02ff\"]}",
           "\"error\"", "a malformed transaction is refused");
    check(gont_vm_seal(NULL) == -1 && gont_vm_last_error() != NULL, "sealing NULL is -1", NULL);
    check(gont_vm_open(NULL, genesis) == NULL && gont_vm_last_error() != NULL,
          "opening a NULL directory is an error", NULL);
    check(gont_vm_open(dir, "{\"chain_id\": 1") == NULL && strstr(gont_vm_last_error(), "config_json") != NULL,
          "a malformed genesis is an error", gont_vm_last_error());
    gont_vm_close(vm);

    /* Another genesis (another time) over the same directory is refused. */
    usleep(5000);
    char *other = gont_vm_development_genesis();
    check(gont_vm_open(dir, other) == NULL && gont_vm_last_error() != NULL,
          "a directory of another genesis is refused", gont_vm_last_error());
    gont_vm_string_free(other);
    gont_vm_string_free(genesis);
    gont_vm_close(NULL);
    gont_vm_string_free(NULL);

    printf("c: %d checks passed\n", checks);
    return 0;
}
