/**
 * Reporting nodes (NodeReports): a validator of the latest claimable epoch reports a node with
 * an evidence hash; anyone may flag a node for validators to look at.
 */
import type { Address, Hex } from "viem";
import { nodeReportsAbi } from "../abi/NodeReports.ts";
import type { PodClients } from "../client.ts";
import { eventOf, sendCall, type WriteResult } from "./internal.ts";

export type ReportNodeParameters = {
  nodeKey: Address;
  /** keccak256 of the evidence (what validators publish); not zero. */
  evidenceHash: Hex;
  /**
   * The sender's proof in the latest claimable epoch's validators tree (leaf:
   * keccak256(bytes.concat(keccak256(abi.encode(account))))), built from the epoch report's
   * `validators` list.
   */
  validatorProof: readonly Hex[];
};
export type ReportNodeReturnType = WriteResult & { reportId: bigint; account: Address };

/**
 * Reports a node; returns the report's id and the account it freezes. Errors: NotValidator,
 * SelfReport, NodeNotReportable, EmptyEvidence, DuplicateReport.
 */
export async function reportNode(pod: PodClients, parameters: ReportNodeParameters): Promise<ReportNodeReturnType> {
  const reports = pod.contracts.nodeReports;
  const sent = await sendCall(pod, {
    contract: "NodeReports",
    address: reports,
    abi: nodeReportsAbi,
    functionName: "reportNode",
    args: [parameters.nodeKey, parameters.evidenceHash, parameters.validatorProof],
  });
  const event = eventOf(sent.receipt, nodeReportsAbi, reports, "NodeReported");
  return { hash: sent.hash, receipt: sent.receipt, reportId: event.args.reportId, account: event.args.account };
}

/** Flags a node for validators to review (a signal only). Errors: NodeNotReportable, EmptyEvidence. */
export async function flagNode(pod: PodClients, parameters: { nodeKey: Address; reasonHash: Hex }): Promise<WriteResult> {
  const { hash, receipt } = await sendCall(pod, {
    contract: "NodeReports",
    address: pod.contracts.nodeReports,
    abi: nodeReportsAbi,
    functionName: "flagNode",
    args: [parameters.nodeKey, parameters.reasonHash],
  });
  return { hash, receipt };
}
