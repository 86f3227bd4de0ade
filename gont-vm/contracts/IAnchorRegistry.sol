// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.20;

/// @title GONT Space's anchor registry
/// @notice A system contract of GONT Space, at
///         0x0000000000000000000000000000000000001001, executed by the node
///         itself (gont-vm's `system::anchor`), not by EVM bytecode. Services
///         anchor checkpoints here; each is verified with tendermint-rs's
///         light-client verifier against what the registry already trusts:
///         the service's genesis validator set (from the Space genesis) or
///         its last anchored checkpoint.
interface IAnchorRegistry {
    /// @notice An anchored checkpoint of a service.
    struct Anchor {
        /// The service height.
        uint64 height;
        /// The block id (Tendermint header hash).
        bytes32 blockId;
        /// The service's state root after that block.
        bytes32 stateRoot;
        /// Hash of the validator set that decided the block.
        bytes32 validatorsHash;
        /// Hash of the validator set that decides the next block.
        bytes32 nextValidatorsHash;
        /// The block's time, in milliseconds since 1970.
        uint64 time;
        /// The Space height at which it was anchored.
        uint64 anchoredAt;
    }

    /// @notice A checkpoint was verified and anchored.
    event CheckpointAnchored(
        uint32 indexed service, uint64 indexed height, bytes32 blockId, bytes32 stateRoot
    );

    /// @notice Two verified checkpoints of one service conflict (one height,
    ///         two blocks; or a later height with an earlier time): the
    ///         service is frozen and accepts no more checkpoints.
    event ServiceFrozen(
        uint32 indexed service, uint64 indexed height, bytes32 anchoredBlockId, bytes32 conflictingBlockId
    );

    /// @notice The admin unfroze a service.
    event ServiceUnfrozen(uint32 indexed service);

    /// @notice Verifies and anchors a checkpoint: the borsh encoding of a
    ///         `gont_core::Checkpoint` (header, commit, validator sets, the
    ///         anchored height it is verified from and that height's next
    ///         validator set). Reverts with the reason when it is refused.
    function submitCheckpoint(bytes calldata checkpoint) external;

    /// @notice The latest anchored checkpoint of `service` (height 0 if none).
    function latest(uint32 service) external view returns (Anchor memory);

    /// @notice The checkpoint anchored at `height` (height 0 if none).
    function anchorAt(uint32 service, uint64 height) external view returns (Anchor memory);

    /// @notice Whether `service` is frozen.
    function isFrozen(uint32 service) external view returns (bool);

    /// @notice Unfreezes `service`, keeping what it had anchored. Only the
    ///         Space genesis's `anchor_admin` may call it: it stands in for
    ///         Space governance, which is not built.
    function unfreeze(uint32 service) external;
}
