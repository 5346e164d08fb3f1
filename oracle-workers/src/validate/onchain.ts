/**
 * A validator's on-chain side: its proof of eligibility (membership in the claimable epoch's
 * validator set) and the report itself, which is idempotent: a validator has at most one open
 * report per node, so when one is open already no second transaction is sent.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { getAddress, isAddressEqual, parseEventLogs, type Address, type Hash, type Hex } from "viem";
import { nodeReportsAbi } from "../../../sdk/src/abi/contracts.ts";
import type { ChainReader, ChainWriter } from "../chain/client.ts";
import { decodeContractError, throwDecoded, TransactionRevertedError } from "../chain/errors.ts";
import { sortAddresses } from "../epoch/validators.ts";

export class NotInValidatorSet extends Error {
  override name = "NotInValidatorSet";
  readonly account: Address;
  constructor(account: Address) {
    super(`${account} is not in the validator set`);
    this.account = account;
  }
}

/**
 * The proof that `account` is one of `validators`: OpenZeppelin's StandardMerkleTree over
 * [[address]], the tree whose root the oracle commits to as validatorsRoot (epoch/validators.ts).
 */
export function validatorProof(account: Address, validators: readonly Address[]): Hex[] {
  const sorted = sortAddresses(validators.map((v) => getAddress(v)));
  const index = sorted.findIndex((v) => isAddressEqual(v, account));
  if (index < 0) throw new NotInValidatorSet(getAddress(account));
  const tree = StandardMerkleTree.of(sorted.map((v) => [v]), ["address"]);
  // The tree orders leaves by hash; find ours by value rather than by input index.
  for (const [i, [leaf]] of tree.entries()) if (isAddressEqual(leaf as Address, account)) return tree.getProof(i) as Hex[];
  throw new NotInValidatorSet(getAddress(account));
}

export type ReportResult =
  | { alreadyReported: false; reportId: bigint; txHash: Hash; blockNumber: bigint }
  | { alreadyReported: true; reportId: bigint };

/** The open report of `reporter` on `nodeKey` was not found though the contract says one is open. */
export class OpenReportNotFound extends Error {
  override name = "OpenReportNotFound";
}

const OPEN = 1; // INodeReports.ReportStatus.Open

/**
 * Reports `nodeKey` with `evidenceHash` from `wallet`'s account and returns the report id from
 * the NodeReported event. When the account has an open report on the node already, sends nothing
 * and returns that report's id (also when the simulation says DuplicateReport: a report of this
 * account landed since the check). Other reverts come back as ContractRevertError with the
 * decoded custom error (NotValidator, SelfReport, NodeNotReportable, EmptyEvidence).
 */
export async function reportNode(
  wallet: ChainWriter,
  client: Pick<ChainReader, "readContract" | "simulateContract" | "waitForTransactionReceipt">,
  nodeReports: Address,
  nodeKey: Address,
  evidenceHash: Hex,
  proof: readonly Hex[],
): Promise<ReportResult> {
  const reporter = wallet.account.address;
  const open = await client.readContract({ address: nodeReports, abi: nodeReportsAbi, functionName: "hasOpenReport", args: [reporter, nodeKey] });
  if (open) return { alreadyReported: true, reportId: await findOpenReport(client, nodeReports, reporter, nodeKey) };
  let request;
  try {
    ({ request } = await client.simulateContract({
      address: nodeReports,
      abi: nodeReportsAbi,
      functionName: "reportNode",
      args: [nodeKey, evidenceHash, [...proof]],
      account: wallet.account,
    }));
  } catch (error) {
    // Our own earlier report (another process of this validator) may have landed since the check.
    if (decodeContractError(error)?.name === "DuplicateReport") return { alreadyReported: true, reportId: await findOpenReport(client, nodeReports, reporter, nodeKey) };
    throwDecoded(error, "NodeReports.reportNode");
  }
  const txHash = await wallet.writeContract({ ...request, chain: wallet.chain, account: wallet.account });
  const receipt = await client.waitForTransactionReceipt({ hash: txHash });
  if (receipt.status !== "success") throw new TransactionRevertedError("NodeReports.reportNode", txHash);
  const [event] = parseEventLogs({ abi: nodeReportsAbi, eventName: "NodeReported", logs: receipt.logs }).filter((log) =>
    isAddressEqual(log.address, nodeReports),
  );
  if (event === undefined) throw new TransactionRevertedError("NodeReports.reportNode (no NodeReported event)", txHash);
  return { alreadyReported: false, reportId: event.args.reportId, txHash, blockNumber: receipt.blockNumber };
}

/** The id of `reporter`'s open report on `nodeKey`, newest first (reports are numbered from 1). */
export async function findOpenReport(client: Pick<ChainReader, "readContract">, nodeReports: Address, reporter: Address, nodeKey: Address): Promise<bigint> {
  const count = await client.readContract({ address: nodeReports, abi: nodeReportsAbi, functionName: "reportCount" });
  for (let id = count; id >= 1n; id--) {
    const report = await client.readContract({ address: nodeReports, abi: nodeReportsAbi, functionName: "getReport", args: [id] });
    if (report.status === OPEN && isAddressEqual(report.reporter, reporter) && isAddressEqual(report.nodeKey, nodeKey)) return id;
  }
  throw new OpenReportNotFound(`no open report of ${reporter} on ${nodeKey} among ${count} reports`);
}
