// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

/// @title IBuyback
/// @notice Receives 100% of the network's revenue and turns it into POD. POD revenue needs no
/// swap; any other asset is sold through its governed Uniswap-V2-compatible pair, never below a
/// minimum out derived from the pair's time-weighted price less a governed maximum slippage, so a
/// sandwich cannot drain it. Anyone may trigger it. Bought POD is split by governed shares among
/// burning, the staking vault (raising sPOD's price) and the node rewards pool. Slashed sPOD sent
/// here is cooled down, redeemed and burned.
/// @dev The time-weighted price is measured from one of the last two observations of the pair's
/// cumulative price: the newest that is at least one TWAP period old. A new observation is only
/// recorded once the newest is a period old, so the older one always stays usable: nobody can
/// keep the TWAP "not ready" by observing (or buying back dust) just before each buyback.
interface IBuyback {
    /// @notice The time-weighted price observation of one asset's pair.
    /// @param priceCumulative The pair's cumulative price of the asset in POD (UQ112x112 seconds).
    /// @param timestamp When it was taken.
    struct Observation {
        uint256 priceCumulative;
        uint64 timestamp;
    }

    /// @notice Thrown when an asset has no route (pair) set.
    error NoRoute(address asset);
    /// @notice Thrown when a pair does not trade `asset` against POD.
    error PairMismatch(address pair, address asset);
    /// @notice Thrown when there is nothing to buy back or distribute.
    error NothingToBuy(address asset);
    /// @notice Thrown when no observation is a TWAP period old yet (buyBack, quote), or when the
    /// newest is too young to be followed by another (observe); `readyAt` is when that changes.
    error TwapNotReady(address asset, uint64 readyAt);
    /// @notice Thrown when the newest observation is older than four TWAP periods: call
    /// `observe`, then wait a period.
    error TwapStale(address asset, uint64 observedAt);
    /// @notice Thrown when the pair would pay less than the minimum out.
    error SlippageExceeded(address asset, uint256 amountIn, uint256 amountOut, uint256 minOut);
    /// @notice Thrown when the pair's reserves are empty.
    error NoLiquidity(address pair);
    /// @notice Thrown when the staked POD to burn is still cooling down.
    error StakeBurnCoolingDown(uint256 opensAt);

    /// @notice Emitted when governance sets (or clears, with the zero pair) an asset's route.
    event RouteSet(address indexed asset, address indexed pair);
    /// @notice Emitted when a TWAP observation is recorded.
    event PriceObserved(address indexed asset, uint256 priceCumulative, uint64 timestamp);
    /// @notice Emitted when `amountIn` of `asset` bought `podOut` POD (for POD itself, in = out).
    event BoughtBack(address indexed asset, address indexed caller, uint256 amountIn, uint256 podOut, uint256 minOut);
    /// @notice Emitted when bought POD is split. With no sPOD in circulation the stakers' share
    /// is burned (it would go to the vault's first depositor).
    event BuybackDistributed(uint256 burned, uint256 toStakers, uint256 toRewardsPool);
    /// @notice Emitted when slashed sPOD starts its cooldown on the way to the burn.
    event StakeBurnCooldownStarted(uint256 shares, uint256 opensAt);
    /// @notice Emitted when slashed sPOD is redeemed and its POD burned.
    event SlashedStakeBurned(uint256 shares, uint256 podBurned);

    /// @notice Sells up to `maxAmountIn` of the buyback's `asset` balance for POD (no swap for POD)
    /// and splits the POD. Anyone may call.
    /// @return podOut The POD bought (or, for POD, distributed).
    function buyBack(address asset, uint256 maxAmountIn) external returns (uint256 podOut);

    /// @notice Records a new TWAP observation of `asset`'s pair; reverts with {TwapNotReady}
    /// while the newest is younger than a TWAP period. Anyone may call.
    function observe(address asset) external;

    /// @notice Moves slashed sPOD toward the burn: starts its cooldown, or redeems and burns it
    /// when the unstake window is open. Anyone may call.
    function burnSlashedStake() external;

    /// @notice Sets the pair that sells `asset` for POD and records its first observation, or
    /// clears the route with the zero pair. The pair must hold liquidity. Owner (timelock) only.
    function setRoute(address asset, address pair) external;

    /// @notice The minimum POD that selling `amountIn` of `asset` must return now, and the
    /// pair's current quote (for POD itself, both are `amountIn`). Reverts as {buyBack} would
    /// when the asset has no route or its TWAP is not usable.
    function quote(address asset, uint256 amountIn) external view returns (uint256 minOut, uint256 expectedOut);

    /// @notice The pair set for `asset` (zero if none).
    function routeOf(address asset) external view returns (address);

    /// @notice The last two TWAP observations of `asset` (the older is zero until a second exists).
    function observationsOf(address asset)
        external
        view
        returns (Observation memory previous, Observation memory latest);
}
