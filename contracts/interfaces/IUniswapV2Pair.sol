// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title IUniswapV2Pair
/// @notice The part of a Uniswap V2 pair (v2-core 1.0.1) that the buyback uses: its tokens,
/// reserves, cumulative prices for the time-weighted price, and the low-level swap.
interface IUniswapV2Pair {
    function token0() external view returns (address);
    function token1() external view returns (address);
    function getReserves() external view returns (uint112 reserve0, uint112 reserve1, uint32 blockTimestampLast);
    function price0CumulativeLast() external view returns (uint256);
    function price1CumulativeLast() external view returns (uint256);
    function swap(uint256 amount0Out, uint256 amount1Out, address to, bytes calldata data) external;
}
