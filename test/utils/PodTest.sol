// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {TestBase} from "forge-std/Base.sol";
import {StdAssertions} from "forge-std/StdAssertions.sol";
import {StdInvariant} from "forge-std/StdInvariant.sol";
import {StdUtils} from "forge-std/StdUtils.sol";

/// @dev forge-std's Test without its console libraries, whose inline assembly floods
/// the WASM compiler's output with hundreds of deprecation warnings.
abstract contract PodTest is TestBase, StdAssertions, StdInvariant, StdUtils {}
