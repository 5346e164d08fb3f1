// SPDX-License-Identifier: MIT
pragma solidity 0.8.34;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {IUniswapV2Pair} from "../interfaces/IUniswapV2Pair.sol";
import {IBuyback} from "../interfaces/IBuyback.sol";
import {IStakedPod} from "../interfaces/IStakedPod.sol";
import {IProtocolParams} from "../interfaces/IProtocolParams.sol";
import {PodToken} from "../token/PodToken.sol";

/// @title Buyback
/// @notice Turns the network's revenue into POD and splits it among burning, stakers and the
/// node rewards pool; burns slashed stake. Owned by the governance timelock, which sets routes.
/// @dev Prices follow Uniswap V2's oracle library: a pair's cumulative price extended to the
/// current block with its current reserves (UQ112x112 seconds, wrapping by design).
contract Buyback is IBuyback, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint256 private constant PPM = 1_000_000;
    /// @dev The buyback refuses a TWAP measured from an observation older than this many periods.
    uint256 private constant MAX_TWAP_PERIODS = 4;

    /// @dev `latest` indexes the newer of the asset's two observations.
    struct Route {
        address pair;
        bool assetIsToken0;
        uint8 latest;
    }

    PodToken public immutable pod;
    IStakedPod public immutable stakedPod;
    IProtocolParams public immutable params;
    /// @notice The node rewards pool (the rewards distributor), which receives its share of the POD.
    address public immutable rewardsPool;

    mapping(address asset => Route) private _routes;
    mapping(address asset => Observation[2]) private _observations;

    constructor(PodToken pod_, IStakedPod stakedPod_, IProtocolParams params_, address rewardsPool_, address owner_)
        Ownable(owner_)
    {
        (pod, stakedPod, params, rewardsPool) = (pod_, stakedPod_, params_, rewardsPool_);
    }

    // ---------------------------------------------------------------- buyback

    /// @inheritdoc IBuyback
    function buyBack(address asset, uint256 maxAmountIn) external nonReentrant returns (uint256 podOut) {
        if (asset == address(pod)) {
            podOut = Math.min(pod.balanceOf(address(this)), maxAmountIn);
            if (podOut == 0) revert NothingToBuy(asset);
            emit BoughtBack(asset, msg.sender, podOut, podOut, podOut);
            _distribute(podOut);
            return podOut;
        }

        Route memory route = _requireRoute(asset);
        uint256 amountIn = Math.min(IERC20(asset).balanceOf(address(this)), maxAmountIn);
        if (amountIn == 0) revert NothingToBuy(asset);
        (uint256 cumulative, uint256 reserveIn, uint256 reserveOut) = _pairState(route);
        uint256 period = params.getParameter("buybackTwapPeriod");
        (uint256 minOut, uint256 expectedOut) =
            _quote(asset, route, amountIn, cumulative, reserveIn, reserveOut, period);
        if (expectedOut < minOut) revert SlippageExceeded(asset, amountIn, expectedOut, minOut);
        // Dust too small to buy a single wei of POD.
        if (expectedOut == 0) revert NothingToBuy(asset);

        // The cumulative price at this timestamp is the same before and after the swap.
        if (block.timestamp >= _observations[asset][route.latest].timestamp + period) {
            _record(asset, route, cumulative);
        }
        podOut = expectedOut;
        emit BoughtBack(asset, msg.sender, amountIn, podOut, minOut);

        uint256 podBefore = pod.balanceOf(address(this));
        IERC20(asset).safeTransfer(route.pair, amountIn);
        (uint256 amount0Out, uint256 amount1Out) = route.assetIsToken0 ? (uint256(0), podOut) : (podOut, uint256(0));
        IUniswapV2Pair(route.pair).swap(amount0Out, amount1Out, address(this), "");
        // A governed pair is a V2 pair and pays exactly what it is asked; anything else is refused.
        uint256 received = pod.balanceOf(address(this)) - podBefore;
        if (received < podOut) revert SlippageExceeded(asset, amountIn, received, podOut);
        _distribute(podOut);
    }

    /// @inheritdoc IBuyback
    function observe(address asset) external nonReentrant {
        Route memory route = _requireRoute(asset);
        uint256 period = params.getParameter("buybackTwapPeriod");
        // The period is bounded by ProtocolParams (at most 7 days).
        uint64 readyAt = _observations[asset][route.latest].timestamp + uint64(period);
        if (block.timestamp < readyAt) revert TwapNotReady(asset, readyAt);
        (uint256 cumulative,,) = _pairState(route);
        _record(asset, route, cumulative);
    }

    /// @inheritdoc IBuyback
    function quote(address asset, uint256 amountIn) external view returns (uint256 minOut, uint256 expectedOut) {
        if (asset == address(pod)) return (amountIn, amountIn);
        Route memory route = _requireRoute(asset);
        (uint256 cumulative, uint256 reserveIn, uint256 reserveOut) = _pairState(route);
        return _quote(
            asset, route, amountIn, cumulative, reserveIn, reserveOut, params.getParameter("buybackTwapPeriod")
        );
    }

    // ---------------------------------------------------------------- slashed stake

    /// @inheritdoc IBuyback
    /// @dev StakedPod keeps one cooldown per holder and a new one replaces the old, so slashed
    /// shares that arrive while one runs wait for the next cycle instead of delaying it.
    function burnSlashedStake() external nonReentrant {
        uint256 shares = stakedPod.balanceOf(address(this));
        if (shares == 0) revert NothingToBuy(address(stakedPod));
        IStakedPod.Cooldown memory cooldown = stakedPod.cooldownOf(address(this));

        if (cooldown.shares != 0 && block.timestamp >= cooldown.opensAt && block.timestamp < cooldown.closesAt) {
            // Shares only leave through this redeem, which spends the cooldown: cooled <= held.
            uint256 redeemed = cooldown.shares;
            uint256 podBurned = stakedPod.previewRedeem(redeemed);
            emit SlashedStakeBurned(redeemed, podBurned);
            stakedPod.redeem(redeemed, address(this), address(this));
            pod.burn(podBurned);
        } else if (cooldown.shares == 0 || block.timestamp >= cooldown.closesAt) {
            // Nothing cooling (never started, fully redeemed, or the window was missed).
            uint256 opensAt = block.timestamp + params.stakeCooldown();
            emit StakeBurnCooldownStarted(shares, opensAt);
            stakedPod.cooldown(shares);
        } else {
            revert StakeBurnCoolingDown(cooldown.opensAt);
        }
    }

    // ---------------------------------------------------------------- governance

    /// @inheritdoc IBuyback
    function setRoute(address asset, address pair) external onlyOwner {
        if (pair == address(0)) {
            delete _routes[asset];
            delete _observations[asset];
            emit RouteSet(asset, address(0));
            return;
        }
        address token0 = IUniswapV2Pair(pair).token0();
        address token1 = IUniswapV2Pair(pair).token1();
        bool assetIsToken0 = token0 == asset && token1 == address(pod);
        if (!assetIsToken0 && !(token1 == asset && token0 == address(pod))) revert PairMismatch(pair, asset);
        Route memory route = Route(pair, assetIsToken0, 0);
        (uint256 cumulative, uint256 reserveIn, uint256 reserveOut) = _pairState(route);
        // An empty pair accrues no price, so a TWAP across its first deposit would read low.
        if (reserveIn == 0 || reserveOut == 0) revert NoLiquidity(pair);

        _routes[asset] = route;
        delete _observations[asset];
        emit RouteSet(asset, pair);
        // The first observation takes slot 1, leaving slot 0 (the "previous") empty.
        _record(asset, route, cumulative);
    }

    // ---------------------------------------------------------------- views

    /// @inheritdoc IBuyback
    function routeOf(address asset) external view returns (address) {
        return _routes[asset].pair;
    }

    /// @inheritdoc IBuyback
    function observationsOf(address asset)
        external
        view
        returns (Observation memory previous, Observation memory latest)
    {
        uint8 newest = _routes[asset].latest;
        return (_observations[asset][newest ^ 1], _observations[asset][newest]);
    }

    // ---------------------------------------------------------------- internals

    function _requireRoute(address asset) private view returns (Route memory route) {
        route = _routes[asset];
        if (route.pair == address(0)) revert NoRoute(asset);
    }

    /// @dev Writes the current cumulative price over the older observation, which becomes the newest.
    function _record(address asset, Route memory route, uint256 cumulative) private {
        uint8 slot = route.latest ^ 1;
        _observations[asset][slot] = Observation(cumulative, uint64(block.timestamp));
        _routes[asset].latest = slot;
        emit PriceObserved(asset, cumulative, uint64(block.timestamp));
    }

    /// @dev The pair's cumulative price of the asset in POD as of this block, and its reserves
    /// (asset in, POD out). Mirrors UniswapV2OracleLibrary.currentCumulativePrices.
    function _pairState(Route memory route)
        private
        view
        returns (uint256 cumulative, uint256 reserveIn, uint256 reserveOut)
    {
        IUniswapV2Pair pair = IUniswapV2Pair(route.pair);
        (uint112 reserve0, uint112 reserve1, uint32 lastUpdate) = pair.getReserves();
        (reserveIn, reserveOut) = route.assetIsToken0 ? (reserve0, reserve1) : (reserve1, reserve0);
        cumulative = route.assetIsToken0 ? pair.price0CumulativeLast() : pair.price1CumulativeLast();
        // The pair's clock is block.timestamp mod 2^32; truncation is intended.
        uint32 nowPair = uint32(block.timestamp);
        if (lastUpdate != nowPair && reserveIn != 0) {
            unchecked {
                // The pair's uint32 clock and its cumulative prices wrap by design.
                cumulative += ((reserveOut << 112) / reserveIn) * (nowPair - lastUpdate);
            }
        }
    }

    /// @dev The minimum out (the TWAP quote less the maximum slippage) and the pair's quote
    /// after its 0.3% fee, for selling `amountIn` of `asset` now.
    function _quote(
        address asset,
        Route memory route,
        uint256 amountIn,
        uint256 cumulative,
        uint256 reserveIn,
        uint256 reserveOut,
        uint256 period
    ) private view returns (uint256 minOut, uint256 expectedOut) {
        if (reserveIn == 0 || reserveOut == 0) revert NoLiquidity(route.pair);
        Observation memory start = _twapStart(asset, route, period);
        uint256 averagePrice;
        unchecked {
            // Wrapping differences of wrapping cumulatives are exact; start is at least a period old.
            averagePrice = (cumulative - start.priceCumulative) / (block.timestamp - start.timestamp);
        }
        uint256 twapOut = Math.mulDiv(amountIn, averagePrice, 1 << 112);
        minOut = Math.mulDiv(twapOut, PPM - params.getParameter("buybackMaxSlippagePpm"), PPM);
        uint256 amountInWithFee = amountIn * 997;
        expectedOut = Math.mulDiv(amountInWithFee, reserveOut, reserveIn * 1000 + amountInWithFee);
    }

    /// @dev The newest observation at least a period old, refusing one more than four periods old.
    function _twapStart(address asset, Route memory route, uint256 period) private view returns (Observation memory) {
        Observation memory latest = _observations[asset][route.latest];
        uint256 age = block.timestamp - latest.timestamp;
        if (age >= period) {
            if (age > MAX_TWAP_PERIODS * period) revert TwapStale(asset, latest.timestamp);
            return latest;
        }
        Observation memory previous = _observations[asset][route.latest ^ 1];
        uint256 previousAge = block.timestamp - previous.timestamp;
        // The period may have grown since `previous` was taken, hence the lower bound too.
        if (previous.timestamp != 0 && previousAge >= period && previousAge <= MAX_TWAP_PERIODS * period) {
            return previous;
        }
        revert TwapNotReady(asset, uint64(latest.timestamp + period));
    }

    /// @dev Splits `amount` POD held here: burn, staking vault, rewards pool; rounding dust,
    /// and the stakers' share while no sPOD exists, is burned.
    function _distribute(uint256 amount) private {
        (, uint256 stakingPpm, uint256 rewardsPpm) = params.buybackSplit();
        uint256 toStakers = stakedPod.totalSupply() == 0 ? 0 : (amount * stakingPpm) / PPM;
        uint256 toRewardsPool = (amount * rewardsPpm) / PPM;
        uint256 burned = amount - toStakers - toRewardsPool;
        emit BuybackDistributed(burned, toStakers, toRewardsPool);

        if (burned != 0) pod.burn(burned);
        if (toStakers != 0) {
            IERC20(pod).safeTransfer(address(stakedPod), toStakers);
            stakedPod.checkpointRate();
        }
        if (toRewardsPool != 0) IERC20(pod).safeTransfer(rewardsPool, toRewardsPool);
    }
}
