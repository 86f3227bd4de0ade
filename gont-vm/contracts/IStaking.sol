// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title The staking contract of every GONT chain
/// @notice A system contract of GONT Space and of every service, at
///         0x0000000000000000000000000000000000001000, executed by the node
///         itself (gont-vm's `system::staking`), not by EVM bytecode. Whoever
///         stakes the chain's own coin here with a consensus key becomes a
///         candidate validator, operated by the staking account. At the end
///         of every block whose height is a multiple of the chain's
///         `epoch_length`, the candidates with at least `min_stake`, the
///         `max_validators` largest first, become the validator set from
///         the next height on (one unit of voting power per whole token).
///         A validator that signs two different votes at one height, round
///         and step is convicted by evidence in a block: its bonded stake,
///         and what it started unbonding at or after the offence, lose
///         `doubleSignSlashBps`/10000 (burned), it leaves the set from the
///         next height and stays jailed until it calls `unjail` after
///         `jailBlocks` blocks. A validator that signs fewer than
///         `minSignedBps`/10000 of the last `signedBlocksWindow` blocks it
///         was in the set for (counted from the commits that blocks carry
///         of their parents) loses `downtimeSlashBps`/10000 of its bonded
///         stake (burned) and is jailed the same way.
interface IStaking {
    /// @notice Stake on its way out, withdrawable from `endsAt`.
    struct Unbonding {
        /// Wei.
        uint256 amount;
        /// The first height at which `withdraw` returns it.
        uint64 endsAt;
    }

    /// @notice A candidate validator.
    struct Validator {
        /// The account that stakes, unstakes and withdraws (and receives
        /// the fees of the blocks the validator proposes).
        address operator;
        /// Its ed25519 consensus key.
        bytes32 consensusKey;
        /// Bonded stake, in wei.
        uint256 stake;
        /// 1 bonded (stake > 0), 2 unbonding (no stake, unbonding
        /// entries left), 3 jailed, 0 none.
        uint8 status;
        /// Whether it is in the validator set now.
        bool inSet;
        /// Its voting power in the set (0 outside it).
        uint64 power;
        /// Stake on its way out.
        Unbonding[] unbonding;
        /// While jailed: the first height at which `unjail` succeeds; 0
        /// when not jailed.
        uint64 jailedUntil;
        /// Blocks it missed of the last `signedBlocksWindow` it was in
        /// the set for.
        uint64 missedBlocks;
    }

    /// @notice The chain's staking rules (from its genesis).
    struct Params {
        uint256 minStake;
        uint32 maxValidators;
        uint64 epochLength;
        uint64 unbondingPeriod;
        uint32 doubleSignSlashBps;
        uint64 jailBlocks;
        uint32 downtimeSlashBps;
        uint64 signedBlocksWindow;
        uint32 minSignedBps;
    }

    /// @notice `operator` added `amount` wei; it now has `total` bonded.
    event Staked(address indexed operator, bytes32 consensusKey, uint256 amount, uint256 total);

    /// @notice `operator` started unbonding `amount` wei, withdrawable from
    ///         height `endsAt`.
    event Unstaked(address indexed operator, uint256 amount, uint64 endsAt);

    /// @notice `operator` withdrew `amount` wei of finished unbondings.
    event Withdrawn(address indexed operator, uint256 amount);

    /// @notice `operator` left jail; it may join the set at the next epoch.
    event Unjailed(address indexed operator);

    /// @notice Stakes `msg.value` for the validator with `consensusKey`,
    ///         operated by `msg.sender`: a new candidate, or more stake for
    ///         the sender's existing one (same key). Reverts on zero value,
    ///         a key that is no ed25519 point, a key of another operator, or
    ///         another key than the sender's own.
    function stake(bytes32 consensusKey) external payable;

    /// @notice Starts unbonding `amount` wei of the sender's bonded stake.
    ///         It keeps its place in the set until the epoch ends.
    function unstake(uint256 amount) external;

    /// @notice Pays the sender every unbonding entry that has ended; returns
    ///         the amount. Reverts if none has ended.
    function withdraw() external returns (uint256);

    /// @notice Ends the sender's jail. Reverts if it is not jailed, before
    ///         its `jailedUntil`, or with less than the minimum stake
    ///         bonded. The validator is a candidate again from the next
    ///         epoch's end.
    function unjail() external;

    /// @notice One candidate (status 0 if `operator` has none).
    function validator(address operator) external view returns (Validator memory);

    /// @notice Every candidate (at most 1000).
    function validators() external view returns (Validator[] memory);

    /// @notice The validator set in force at the next height: operators,
    ///         keys and powers, in Tendermint's order.
    function validatorSet()
        external
        view
        returns (address[] memory operators, bytes32[] memory keys, uint64[] memory powers);

    /// @notice The chain's staking rules.
    function params() external view returns (Params memory);
}
