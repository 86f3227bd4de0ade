// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The contract both acceptance clients (viem, web3.py) deploy. Small, but
/// with one of each thing a client library touches: state (`count`,
/// `lastValue`), an event (`Bumped`), views (`count`, `countPlus`), a
/// function that reverts with a reason string (`store` above `LIMIT`), and
/// one that calls another `Probe` whose call reverts (`relay`), so that a
/// call trace has a failed nested frame carrying the reason.
contract Probe {
    /// `store` refuses values above this, with `Probe: value over limit`.
    uint256 public constant LIMIT = 100;

    uint256 public count;
    uint256 public relayed;
    mapping(address => uint256) public lastValue;

    event Bumped(address indexed by, uint256 indexed count, uint256 value);

    constructor(uint256 start) {
        count = start;
    }

    /// Counts one up, remembers the caller's value, emits `Bumped`.
    function bump(uint256 value) external returns (uint256) {
        count += 1;
        lastValue[msg.sender] = value;
        emit Bumped(msg.sender, count, value);
        return count;
    }

    /// A view with an argument, so `eth_call` decodes something computed.
    function countPlus(uint256 x) external view returns (uint256) {
        return count + x;
    }

    /// Sets `count`; reverts with a reason above `LIMIT`.
    function store(uint256 value) public {
        require(value <= LIMIT, "Probe: value over limit");
        count = value;
    }

    /// Calls `other.store(value)`: with `value > LIMIT` the nested call
    /// reverts and Solidity bubbles its revert data up, so the whole
    /// transaction fails with the nested call's reason.
    function relay(Probe other, uint256 value) external {
        relayed += 1;
        other.store(value);
    }
}
