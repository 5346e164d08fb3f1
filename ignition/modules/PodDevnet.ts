import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { buildNetwork } from "./PodNetwork.ts";

/**
 * The whole protocol for a local network or a testnet: PodNetwork with its own 6-decimal
 * stablecoin (DevStablecoin, minted by the deployer) accepted as credit beside POD. Takes
 * PodNetwork's parameters (under "PodDevnet") except `stablecoin`.
 */
export default buildModule("PodDevnet", (m) => {
  const stablecoin = m.contract("DevStablecoin", [m.getAccount(0)]);
  return { ...buildNetwork(m, stablecoin), stablecoin };
});
