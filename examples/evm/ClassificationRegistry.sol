// SPDX-License-Identifier: MIT
pragma solidity 0.8.19;

/// @title ClassificationRegistry
/// @notice An example consumer of a zkinfer verifier: records, per address, the class
/// that a proven inference assigned to that address's input (the input itself can
/// stay private). The class is the index of the largest public output.
/// @dev `proofCalldata` is exactly what `zkinfer encode-evm-calldata` writes: the
/// public outputs as 32-byte words (field elements: fixed-point integers, negative
/// values as p - |v|), then the proof. The verifier returns on a valid proof and
/// reverts otherwise.
contract ClassificationRegistry {
    /// @notice The model's generated `Halo2Verifier`.
    address public immutable verifier;
    /// @notice How many public outputs the model has.
    uint256 public immutable outputs;

    /// @dev BN254's scalar field modulus.
    uint256 private constant P = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// @notice The last class each address proved.
    mapping(address => uint256) public classOf;
    /// @notice Whether an address ever proved a classification.
    mapping(address => bool) public hasProved;

    /// @notice Emitted for every accepted proof.
    event Classified(address indexed who, uint256 class);

    constructor(address verifier_, uint256 outputs_) {
        require(outputs_ > 0, "no outputs");
        verifier = verifier_;
        outputs = outputs_;
    }

    /// @notice Verifies a proof and records the class it shows for the sender.
    function submit(bytes calldata proofCalldata) external returns (uint256 class) {
        require(proofCalldata.length > 32 * outputs, "calldata too short");
        (bool ok,) = verifier.staticcall(proofCalldata);
        require(ok, "invalid proof");
        int256 best = type(int256).min;
        for (uint256 i = 0; i < outputs; i++) {
            uint256 word = uint256(bytes32(proofCalldata[32 * i:32 * i + 32]));
            int256 value = word > P / 2 ? -int256(P - word) : int256(word);
            if (value > best) {
                best = value;
                class = i;
            }
        }
        classOf[msg.sender] = class;
        hasProved[msg.sender] = true;
        emit Classified(msg.sender, class);
    }
}
